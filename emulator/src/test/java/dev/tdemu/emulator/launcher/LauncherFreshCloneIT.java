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
    }
}
