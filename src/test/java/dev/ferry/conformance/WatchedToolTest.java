package dev.ferry.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceController;
import dev.ferry.device.DeviceException;
import dev.ferry.device.DeviceRef;
import dev.ferry.device.Mode;
import dev.ferry.device.Step;
import dev.ferry.device.ToolDialect;
import dev.ferry.device.Verdict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatchedToolTest {
    @TempDir
    Path dir;

    private final List<String> seen = new ArrayList<>();
    private final DeviceContext ctx = new DeviceContext("vm", "uuid", new DeviceRef("tpm0", "tpm", "external"),
            Mode.LIVE, "host-b", e -> {});

    /** A controller that notes which of its methods were called. */
    private final DeviceController tool = new DeviceController() {
        @Override
        public Verdict check(DeviceContext c) {
            seen.add("check");
            return Verdict.ok();
        }

        @Override
        public void preSuspend(DeviceContext c) {
            seen.add("preSuspend");
        }

        @Override
        public void awaitPreSuspend(DeviceContext c) throws DeviceException {
            seen.add("awaitPreSuspend");
            throw new DeviceException("copy fell behind");
        }

        @Override
        public void recover(DeviceContext c, Step lastGood) {
            seen.add("recover " + lastGood.toolName());
        }
    };

    @Test
    void bound_watchesTheSteps_andPassesEveryOtherMethodToTheTool_withItsException() throws Exception {
        try (Scratch scratch = Scratch.create(dir)) {
            WatchedTool watched = new WatchedTool(tool, new CallProbe(scratch, ToolDialect.FERRY, 1024), scratch, null);
            DeviceController bound = watched.bound();

            bound.check(ctx);
            bound.preSuspend(ctx);
            assertThatThrownBy(() -> bound.awaitPreSuspend(ctx)).isInstanceOf(DeviceException.class)
                    .hasMessage("copy fell behind");
            bound.recover(ctx, Step.PRE_SUSPEND);
            watched.recoverAgain();

            assertThat(seen).containsExactly("check", "preSuspend", "awaitPreSuspend", "recover pre-suspend",
                    "recover pre-suspend");
            // This controller starts no process, so the tool was never run: no call is recorded.
            assertThat(watched.calls()).isEmpty();
        }
    }

    @Test
    void failAfter_countsTheStepAsFailed_onceTheToolFinishedIt() throws Exception {
        try (Scratch scratch = Scratch.create(dir)) {
            WatchedTool watched = new WatchedTool(tool, new CallProbe(scratch, ToolDialect.FERRY, 1024), scratch,
                    Step.PRE_SUSPEND);

            assertThatThrownBy(() -> watched.bound().preSuspend(ctx)).isInstanceOf(DeviceException.class)
                    .hasMessage("the check counts pre-suspend as failed after the tool finished it");
            assertThat(seen).containsExactly("preSuspend");
            assertThat(watched.calls()).isEmpty();
        }
    }
}
