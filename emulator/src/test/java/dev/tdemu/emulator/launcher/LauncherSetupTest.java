package dev.tdemu.emulator.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher's machine-setup logic, run for real by bash against fixture directories. */
class LauncherSetupTest {
    @TempDir
    Path tmp;

    private Repo.Result sourced(Map<String, String> env, String script) throws Exception {
        String launcher = Repo.root().resolve("tdemu").toString();
        return Repo.run(tmp, env, 30, "bash", "-c", "source '" + launcher + "'; " + script);
    }

    private Path aptFixture(String sourcesList, String deb822) throws IOException {
        Path apt = Files.createDirectories(tmp.resolve("apt"));
        Files.createDirectories(apt.resolve("sources.list.d"));
        Files.createDirectories(apt.resolve("preferences.d"));
        if (sourcesList != null) {
            Files.writeString(apt.resolve("sources.list"), sourcesList);
        }
        if (deb822 != null) {
            Files.writeString(apt.resolve("sources.list.d/debian.sources"), deb822);
        }
        return apt;
    }

    @Test
    void aGdbSessionGetsTheOptimisingJitAndEverythingElseTheQuickOne() throws Exception {
        for (String args : new String[] {"check", "run builtin:hello", "run builtin:hello --wait", "check --gdb-ish"}) {
            Repo.Result r = sourced(Map.of(), "jit_flags " + args);
            assertThat(r.exitCode()).isZero();
            assertThat(r.stdout().strip()).as(args).isEqualTo("-XX:TieredStopAtLevel=1");
        }
        for (String args : new String[] {"run builtin:debuggee --gdb 1234", "run x.elf --gdb=1234 --wait"}) {
            Repo.Result r = sourced(Map.of(), "jit_flags " + args);
            assertThat(r.exitCode()).isZero();
            assertThat(r.stdout().strip()).as(args).isEmpty();
        }
    }

    @Test
    void trixieEntryIsDerivedFromTheSystemsOwnDeb822Source() throws Exception {
        Path apt = aptFixture(null, """
                Types: deb
                URIs: http://mirror-one.example/debian
                Suites: bookworm
                Enabled: no

                Types: deb-src
                URIs: http://mirror-two.example/debian
                Suites: bookworm

                Types: deb
                # the one that counts
                URIs: http://mirror-three.example/debian
                Suites: bookworm bookworm-updates
                Components: main
                Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

                Types: deb
                URIs: http://security.example/debian-security
                Suites: bookworm-security
                """);
        Repo.Result r = sourced(Map.of("TDEMU_APT_DIR", apt.toString()), "debian_source_of bookworm");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout().trim())
                .isEqualTo("http://mirror-three.example/debian /usr/share/keyrings/debian-archive-keyring.gpg");
    }

    @Test
    void trixieEntryIsDerivedFromAOneLineSourcesList() throws Exception {
        Path apt = aptFixture("""
                # deb http://commented.example/debian bookworm main
                deb-src http://src.example/debian bookworm main
                deb [arch=amd64 signed-by=/etc/apt/keyrings/d.gpg] http://line.example/debian bookworm main
                deb http://line.example/debian-security bookworm-security main
                """, null);
        Repo.Result r = sourced(Map.of("TDEMU_APT_DIR", apt.toString()), "debian_source_of bookworm");
        assertThat(r.stdout().trim()).isEqualTo("http://line.example/debian /etc/apt/keyrings/d.gpg");
    }

    @Test
    void noMatchingSourceIsReportedAsFailure() throws Exception {
        Path apt = aptFixture("deb http://line.example/debian bullseye main\n", null);
        Repo.Result r = sourced(Map.of("TDEMU_APT_DIR", apt.toString()), "debian_source_of bookworm || echo rc=$?");
        assertThat(r.stdout()).contains("rc=1");
    }

    private Path fakeJdk(String name, String specVersion) throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("jvm").resolve(name).resolve("bin"));
        String script = "#!/bin/sh\necho '    java.specification.version = " + specVersion + "' >&2\n";
        for (String tool : new String[] {"java", "javac"}) {
            Path f = bin.resolve(tool);
            Files.writeString(f, script);
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return bin.getParent();
    }

    @Test
    void findsJdk25UnderJvmDirWhenJavaHomeAndPathHoldAnOlderJdk() throws Exception {
        Path old = fakeJdk("jdk-17", "17");
        Path newer = fakeJdk("jdk-25", "25");
        Repo.Result r = sourced(Map.of("TDEMU_JVM_DIR", tmp.resolve("jvm").toString(), "JAVA_HOME", old.toString(),
                "PATH", old.resolve("bin") + ":/usr/bin:/bin"), "find_jdk; echo \"JAVA_HOME=$JAVA_HOME\"");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).contains("JAVA_HOME=" + newer);
    }

    @Test
    void prefersJavaHomeWhenItIsNewEnough() throws Exception {
        fakeJdk("jdk-25", "25");
        Path home = fakeJdk("jdk-26", "26");
        Repo.Result r = sourced(Map.of("TDEMU_JVM_DIR", tmp.resolve("jvm").toString(), "JAVA_HOME", home.toString()),
                "find_jdk; echo \"JAVA_HOME=$JAVA_HOME\"");
        assertThat(r.stdout()).contains("JAVA_HOME=" + home);
    }

    @Test
    void explainsWhatToInstallWhenNoJdk25Exists() throws Exception {
        Path old = fakeJdk("jdk-17", "17");
        Repo.Result r = sourced(Map.of("TDEMU_JVM_DIR", tmp.resolve("jvm").toString(), "JAVA_HOME", old.toString(),
                "PATH", old.resolve("bin") + ":/usr/bin:/bin"), "find_jdk");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("no JDK 25 or newer found").contains("Temurin 25").contains("JAVA_HOME");
    }

    @Test
    void readsTheVersionFromTheJdksReleaseFileWithoutStartingIt() throws Exception {
        // A java that would fail if started: only the release file can tell its version.
        Path home = fakeJdk("jdk-25-release", "1");
        Files.writeString(home.resolve("bin/java"), "#!/bin/sh\necho started >&2; exit 1\n");
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Someone\"\nJAVA_VERSION=\"25.0.1\"\n");
        Repo.Result r = sourced(Map.of("TDEMU_JVM_DIR", tmp.resolve("jvm").toString(), "JAVA_HOME", home.toString()),
                "java_major '" + home.resolve("bin/java") + "'; find_jdk; echo \"JAVA_HOME=$JAVA_HOME\"");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout().lines()).containsExactly("25", "JAVA_HOME=" + home);
        assertThat(r.stderr()).doesNotContain("started");
    }

    @Test
    void aQemuThatIsAScriptIsNotQemu() throws Exception {
        // The project's bin/qemu-system-x86_64 runs tdemu; the benchmarks' QEMU side must not take it.
        Path bin = Files.createDirectories(tmp.resolve("fakebin"));
        Path script = bin.resolve("qemu-system-x86_64");
        Files.writeString(script, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Repo.Result r = sourced(Map.of("PATH", bin + ":/bin"), "type -ap qemu-system-x86_64 | head -n1; "
                + "have_qemu && echo have || echo none");
        assertThat(r.stdout().lines().findFirst()).contains(script.toString());
        boolean realQemu = Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64"));
        assertThat(r.stdout()).as("only /usr/bin's, where installed, counts").contains(realQemu ? "have" : "none");
    }

    @Test
    void versionComparisonOrdersDebianVersions() throws Exception {
        Repo.Result r = sourced(Map.of(), """
                version_ge 2.1.1-2+b2 2.1 && echo a; version_ge 2.0.1.post1-1+b1 2.1 || echo b; \
                version_ge 2.1 2.1 && echo c; version_ge 10.0 2.1 && echo d""");
        assertThat(r.stdout().lines()).containsExactly("a", "b", "c", "d");
    }

    @Test
    void installedUnicornOnThisMachineIsRecognisedAsNewEnough() throws Exception {
        Repo.Result r = sourced(Map.of(), "unicorn_ok && echo ok; unicorn_version");
        assertThat(r.stdout()).as("the test JVM itself runs on libunicorn >= 2.1, so setup must accept it")
                .startsWith("ok");
    }
}
