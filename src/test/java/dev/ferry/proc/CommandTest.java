package dev.ferry.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommandTest {

    @Test
    void fluentMethodsReturnCopiesAndLeaveTheOriginalAlone() {
        Command base = Command.of("qemu-img", "info");
        Command tuned = base.workDir(Path.of("/")).env("A", "1").timeout(Duration.ofSeconds(5)).captureBytes(10);

        assertThat(base.env()).isEmpty();
        assertThat(base.timeout()).isNull();
        assertThat(base.captureBytes()).isEqualTo(Command.DEFAULT_CAPTURE_BYTES);
        assertThat(tuned.argv()).containsExactly("qemu-img", "info");
        assertThat(tuned.env()).isEqualTo(Map.of("A", "1"));
        assertThat(tuned.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(tuned.captureBytes()).isEqualTo(10);
    }

    @Test
    void stdinCannotBeChangedFromOutside() {
        byte[] input = {1, 2, 3};
        Command command = Command.of("cat").stdin(input);
        input[0] = 9;
        command.stdin()[1] = 9;

        assertThat(command.stdin()).containsExactly(1, 2, 3);
    }

    @Test
    void invalidCommandsAreRefusedWithAReason() {
        assertThatThrownBy(() -> Command.of()).hasMessageContaining("at least a program name");
        assertThatThrownBy(() -> Command.of(List.of(""))).hasMessageContaining("program name is empty");
        assertThatThrownBy(() -> Command.of("a", null)).hasMessageContaining("argument 1");
        assertThatThrownBy(() -> Command.of("a").env("X=Y", "1")).hasMessageContaining("'X=Y'");
        assertThatThrownBy(() -> Command.of("a").timeout(Duration.ZERO)).hasMessageContaining("timeout of a");
        assertThatThrownBy(() -> Command.of("a").captureBytes(0)).hasMessageContaining("captureBytes of a");
    }
}
