package dev.tdemu.emulator.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's AOT cache logic (run_cli), run by bash against a fixture tree and a fake JDK
 * whose java records its arguments (and, asked for a cache, writes one): when the cache is passed,
 * when it is made, and that a stale one is not passed.
 */
@Timeout(120)
class LauncherAotCacheTest {
    @TempDir
    Path tmp;
    Path tree;
    Path jdk;
    Path calls;

    @BeforeEach
    void fixture() throws IOException {
        tree = tmp.resolve("tree");
        Path target = Files.createDirectories(tree.resolve("emulator/target/classes"));
        Files.writeString(target.resolveSibling("classpath.txt"), "/deps.jar");
        Files.writeString(target.resolveSibling("tdemu-emulator-0.1.0-SNAPSHOT-tests.jar"), "tests");
        Files.writeString(target.resolveSibling("tdemu-emulator-0.1.0-SNAPSHOT.jar"), "main");
        Path guests = Files.createDirectories(tree.resolve("testguests/target/classes/guests/multiboot"));
        Files.writeString(guests.resolve("pc64-boot-idle.elf"), "kernel");
        Files.createDirectories(tree.resolve(".build"));
        calls = tmp.resolve("calls.txt");
        jdk = Files.createDirectories(tmp.resolve("jdk/bin")).getParent();
        Path java = jdk.resolve("bin/java");
        Files.writeString(java, """
                #!/bin/bash
                echo "java $*" >> '%s'
                for a in "$@"; do case "$a" in -XX:AOTCacheOutput=*) printf cache > "${a#*=}";; esac; done
                """.formatted(calls));
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Sources the launcher, points it at the fixture tree and runs run_cli (which execs the fake java). */
    private Repo.Result runCli(Map<String, String> env) throws Exception {
        return inTree(env, "run_cli run k.elf");
    }

    private Repo.Result inTree(Map<String, String> env, String command) throws Exception {
        String launcher = Repo.root().resolve("tdemu").toString();
        String script = "source '" + launcher + "'; TOP='" + tree + "'; STAMP=\"$TOP/.build/stamp\"; "
                + "APP_CP_FILE=\"$TOP/emulator/target/classpath.txt\"; AOT_CACHE=\"$TOP/.build/cli.aot\"; "
                + command;
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("JAVA_HOME", jdk.toString());
        return Repo.run(tmp, all, 60, "bash", "-c", script);
    }

    private List<String> cliCalls() throws IOException {
        return Files.readAllLines(calls).stream().filter(l -> l.contains("cli.Main run k.elf")).toList();
    }

    private void awaitKey() throws InterruptedException {
        Path key = tree.resolve(".build/cli.aot.key");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(key) && System.nanoTime() < deadline) {
            Thread.sleep(20); // waiting on a state (the key file, the training's last act), with a deadline
        }
        assertThat(key).exists();
    }

    @Test
    void theFirstStartTrainsACacheInTheBackgroundAndTheNextStartsUseIt() throws Exception {
        Repo.Result first = runCli(Map.of());
        assertThat(first.exitCode()).as(first.all()).isZero();
        awaitKey();
        assertThat(tree.resolve(".build/cli.aot")).hasContent("cache");
        assertThat(Files.readAllLines(calls)).as("the training run: the small PC kernel, the cache's temporary name")
                .anyMatch(l -> l.contains("-XX:AOTCacheOutput=" + tree.resolve(".build/cli.aot.tmp."))
                        && l.endsWith(" " + tree.resolve(".build/aot-train.elf")));
        assertThat(Files.readAllLines(calls)).as("the training goes through a gdb session's start (its warm-ups, before "
                + "the stub listens: the kernel ends at once), with both compilers, so that the cache keeps their profiles")
                .anyMatch(l -> l.contains("-XX:AOTCacheOutput=") && l.contains(" run --gdb 0 ")
                        && l.contains("-Dtdemu.gdb.warmUpBeforeListening=true") && !l.contains("TieredStopAtLevel"));
        assertThat(cliCalls().getFirst()).doesNotContain("AOTCache");

        Repo.Result second = runCli(Map.of());
        assertThat(second.exitCode()).as(second.all()).isZero();
        String call = cliCalls().getLast();
        assertThat(call).contains("-XX:AOTCache=" + tree.resolve(".build/cli.aot"), "-Xlog:aot*=off,cds*=off")
                .as("the jar, not its tests jar, since the JVM takes a cache only with jars")
                .contains("-cp " + tree.resolve("emulator/target/tdemu-emulator-0.1.0-SNAPSHOT.jar") + ":/deps.jar ");
        assertThat(tree.resolve(".build")).isDirectoryNotContaining("glob:**/cli.aot.tmp*")
                .isDirectoryNotContaining("glob:**/aot-train.elf");
    }

    @Test
    void benchMakesTheCacheBeforeItStarts() throws Exception {
        // ./tdemu bench times ./tdemu run, which must not race a training run of its own.
        Repo.Result r = inTree(Map.of(), "aot_ready; cat \"$AOT_CACHE.key\"; echo; aot_ready; echo done");
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.stdout()).startsWith(jdk.toString()).endsWith("done\n");
        assertThat(r.stderr()).as("said once, when it made the cache").containsOnlyOnce("making the CLI's AOT cache");
        assertThat(tree.resolve(".build/cli.aot")).hasContent("cache");
    }

    @Test
    void aCacheOfAnotherJarIsNotPassed() throws Exception {
        runCli(Map.of());
        awaitKey();
        Path jar = tree.resolve("emulator/target/tdemu-emulator-0.1.0-SNAPSHOT.jar");
        Files.writeString(jar, "rebuilt, longer");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5_000));
        Path key = tree.resolve(".build/cli.aot.key");
        String oldKey = Files.readString(key);
        Repo.Result r = runCli(Map.of());
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(cliCalls().getLast()).doesNotContain("AOTCache");
        // That start trained a cache for the new jar in the background: let it finish before the
        // fixture tree goes (it writes into .build until its last act, the new key).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Files.readString(key).equals(oldKey) && System.nanoTime() < deadline) {
            Thread.sleep(20); // waiting on a state (the key file, the training's last act), with a deadline
        }
        assertThat(key).as("a cache trained for the rebuilt jar").content().isNotEqualTo(oldKey);
    }

    @Test
    void tdemuAotZeroRunsFromTheClassesWithoutACache() throws Exception {
        Repo.Result r = runCli(Map.of("TDEMU_AOT", "0"));
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(Files.readAllLines(calls)).singleElement().asString()
                .doesNotContain("AOTCache").contains("-cp " + tree.resolve("emulator/target/classes") + ":/deps.jar ");
    }
}
