package dev.tdemu.emulator.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new user's first run: clone the repository (its committed HEAD, as CI does) and run
 * {@code ./tdemu check}. The launcher must set up, build and run the main job (the validation
 * matrix) on its own.
 */
class LauncherFreshCloneIT {
    @TempDir
    Path tmp;

    @Test
    void freshCloneRunsTheValidationMatrixWithEveryCellAsExpected() throws Exception {
        Path clone = tmp.resolve("fresh");
        Repo.Result cloned = Repo.run(tmp, Map.of(), 120, "git", "clone", "--quiet", Repo.root().toString(), clone.toString());
        assertThat(cloned.exitCode()).as(cloned.all()).isZero();

        // A new user's shell: the default (older) java first on PATH, no JAVA_HOME.
        Map<String, String> env = Map.of("JAVA_HOME", "", "PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
        Repo.Result check = Repo.run(clone, env, 900, "./tdemu", "check");
        assertThat(check.exitCode()).as(check.all()).isZero();
        assertThat(check.stdout()).contains("TD guests, TDX module INIT_ON_EXIT").contains("every one as expected");

        // The first start of the build left a training run behind, which makes the CLI's AOT
        // cache; its key is its last act. The next start uses the cache and says nothing of it.
        Path key = clone.resolve(".build/cli.aot.key");
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
        while (!java.nio.file.Files.exists(key) && System.nanoTime() < deadline) {
            Thread.sleep(200); // waiting on a state (the key file), with a deadline
        }
        assertThat(key).as("the AOT cache's key, written when the cache is complete").exists();
        assertThat(clone.resolve(".build/cli.aot")).isNotEmptyFile();
        Repo.Result hello = Repo.run(clone, env, 120, "./tdemu", "run", "builtin:hello");
        assertThat(hello.exitCode()).as(hello.all()).isZero();
        assertThat(hello.stdout()).isEqualTo("Hello from a tdemu guest!\n");
        assertThat(hello.stderr()).isEmpty();
        // AOTMode=on: the JVM refuses to start unless it can use the cache it was given.
        Map<String, String> strict = new java.util.HashMap<>(env);
        strict.put("TDEMU_JAVA_OPTS", "-XX:AOTMode=on");
        Repo.Result cached = Repo.run(clone, strict, 120, "./tdemu", "run", "builtin:hello");
        assertThat(cached.exitCode()).as("the launcher passed a usable cache: " + cached.all()).isZero();
    }
}
