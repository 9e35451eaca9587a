package dev.ferry.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessRunnerTest {
    private final ProcessRunner runner = new ProcessRunner();

    @Test
    void timeoutKillsTheWholeProcessGroupIncludingGrandchildren() throws Exception {
        CompletableFuture<Long> grandchild = new CompletableFuture<>();
        Command command = Command.of("sh", "-c", "sleep 1000 & echo $!; wait")
                .timeout(Duration.ofMillis(500))
                .onStdoutLine(line -> grandchild.complete(Long.parseLong(line.trim())));

        ProcResult result = runner.run(command);

        long sleeper = grandchild.get(5, TimeUnit.SECONDS);
        assertThat(result.timedOut()).isTrue();
        assertThat(result.signal()).isEqualTo(9);
        assertThat(result.ok()).isFalse();
        assertThat(result.describe()).startsWith("sh timed out after ");
        assertThat(Processes.awaitExit(sleeper, Duration.ofSeconds(5)))
                .as("grandchild %d killed with its group", sleeper).isTrue();
        assertThat(result.elapsed()).isBetween(Duration.ofMillis(450), Duration.ofSeconds(5));
    }

    @Test
    void hundredMegabytesOfOutputKeepOnlyTheTail() throws Exception {
        ProcResult result = runner.run(Command.of("head", "-c", "100000000", "/dev/zero").timeout(Duration.ofSeconds(60)));

        assertThat(result.ok()).as(result.describe()).isTrue();
        assertThat(result.stdout().totalBytes()).isEqualTo(100_000_000L);
        assertThat(result.stdout().truncated()).isTrue();
        assertThat(result.stdout().text()).hasSize(Command.DEFAULT_CAPTURE_BYTES);
        assertThat(result.stderr()).isEqualTo(Output.EMPTY);
    }

    @Test
    void captureKeepsTheLastBytesOfTheStream() throws Exception {
        ProcResult result = runner.run(Command.of("seq", "1", "1000").captureBytes(9));

        assertThat(result.stdout().text()).isEqualTo("998\n999\n1000\n".substring(4));
        assertThat(result.stdout().truncated()).isTrue();
    }

    @Test
    void argumentsReachTheProgramVerbatim() throws Exception {
        List<String> tricky = List.of("two words", "'single'", "\"double\"", "a;b", "$(touch /tmp/x)", "`id`",
                "line1\nline2", "", "*", "~", "$HOME", "back\\slash", "ünïcødé", "--");
        List<String> argv = new ArrayList<>(List.of("printf", "%s\\0"));
        argv.addAll(tricky);

        ProcResult result = runner.run(Command.of(argv));

        assertThat(result.ok()).as(result.describe()).isTrue();
        String out = result.stdout().text();
        assertThat(out).endsWith("\0");
        assertThat(Arrays.asList(out.substring(0, out.length() - 1).split("\0", -1))).isEqualTo(tricky);
    }

    @Test
    void exitCodeIsReportedWithTheLastStderrLine() throws Exception {
        ProcResult result = runner.run(Command.of("sh", "-c", "echo first >&2; echo 'no space left' >&2; exit 3"));

        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(result.signal()).isNull();
        assertThat(result.timedOut()).isFalse();
        assertThat(result.ok()).isFalse();
        assertThat(result.describe()).isEqualTo("sh exited 3: no space left");
    }

    @Test
    void deathBySignalIsReported() throws Exception {
        ProcResult result = runner.run(Command.of("sh", "-c", "kill -TERM $$"));

        assertThat(result.signal()).isEqualTo(15);
        assertThat(result.timedOut()).isFalse();
        assertThat(result.describe()).isEqualTo("sh killed by signal 15");
    }

    @Test
    void successIsOk() throws Exception {
        ProcResult result = runner.run(Command.of("true"));

        assertThat(result.ok()).isTrue();
        assertThat(result.describe()).isEqualTo("true exited 0");
    }

    @Test
    void environmentIsCleanPlusExplicitAdditions() throws Exception {
        Set<String> parentOnly = System.getenv().keySet().stream()
                .filter(k -> !Set.of("PATH", "LANG", "HOME").contains(k)).collect(Collectors.toSet());
        assumeFalse(parentOnly.isEmpty(), "needs a parent variable that could leak");

        ProcResult result = runner.run(Command.of("env", "-0").env("FERRY_TEST", "a b=c"));

        List<String> vars = Arrays.asList(result.stdout().text().split("\0"));
        List<String> expected = new ArrayList<>(List.of(
                "PATH=" + Command.BASE_PATH, "LANG=C.UTF-8", "FERRY_TEST=a b=c"));
        if (System.getenv("HOME") != null) {
            expected.add("HOME=" + System.getenv("HOME"));
        }
        assertThat(vars).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void linesReachTheListenersInOrder() throws Exception {
        List<String> out = Collections.synchronizedList(new ArrayList<>());
        List<String> err = Collections.synchronizedList(new ArrayList<>());
        Command command = Command.of("sh", "-c", "seq 1 5000; echo oops >&2; printf 'no newline'")
                .onStdoutLine(out::add)
                .onStderrLine(err::add);

        runner.run(command);

        List<String> expected = IntStream.rangeClosed(1, 5000).mapToObj(Integer::toString).collect(Collectors.toList());
        expected.add("no newline");
        assertThat(out).isEqualTo(expected);
        assertThat(err).containsExactly("oops");
    }

    @Test
    void aLineWithoutNewlineIsHandedOverInBoundedPieces() throws Exception {
        List<Integer> lengths = Collections.synchronizedList(new ArrayList<>());
        runner.run(Command.of("head", "-c", "200000", "/dev/zero").onStdoutLine(line -> lengths.add(line.length())));

        assertThat(lengths).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(StreamPump.MAX_LINE_BYTES));
        assertThat(lengths.stream().mapToInt(Integer::intValue).sum()).isEqualTo(200_000);
    }

    @Test
    void aFailingListenerDoesNotStopTheCapture() throws Exception {
        ProcResult result = runner.run(Command.of("seq", "1", "3").onStdoutLine(line -> {
            throw new IllegalStateException("listener bug");
        }));

        assertThat(result.ok()).isTrue();
        assertThat(result.stdout().text()).isEqualTo("1\n2\n3\n");
    }

    @Test
    void stdinBytesAreFedToTheChild() throws Exception {
        byte[] input = "hello\nworld\n".getBytes(StandardCharsets.UTF_8);

        ProcResult result = runner.run(Command.of("cat").stdin(input));

        assertThat(result.stdout().text()).isEqualTo("hello\nworld\n");
    }

    @Test
    void stdinIsEmptyByDefault() throws Exception {
        ProcResult result = runner.run(Command.of("cat").timeout(Duration.ofSeconds(10)));

        assertThat(result.ok()).isTrue();
        assertThat(result.stdout().totalBytes()).isZero();
    }

    @Test
    void workDirIsTheChildsCurrentDirectory(@TempDir Path dir) throws Exception {
        ProcResult result = runner.run(Command.of("pwd").workDir(dir));

        assertThat(Path.of(result.stdout().text().trim())).isEqualTo(dir.toRealPath());
    }

    @Test
    void missingProgramIsReportedBeforeStarting() {
        assertThatThrownBy(() -> runner.run(Command.of("no-such-program-ferry")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("cannot run no-such-program-ferry: not found in PATH");
        assertThatThrownBy(() -> runner.run(Command.of("/nonexistent/tool")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("/nonexistent/tool");
    }

    @Test
    void missingWorkDirIsReported(@TempDir Path dir) {
        Path missing = dir.resolve("gone");

        assertThatThrownBy(() -> runner.run(Command.of("true").workDir(missing)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void childLeadsItsOwnProcessGroup() throws Exception {
        RunningProcess process = runner.start(Command.of("sleep", "1000").timeout(Duration.ofSeconds(30)));
        try {
            // Until setsid has run, the child is still in the JVM's group and named setsid.
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> Processes.arguments(process.pid()).equals(Optional.of(List.of("sleep", "1000"))));
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertThat(Long.parseLong(fields[2])).as("pgid").isEqualTo(process.pid());
        } finally {
            process.kill();
            process.await();
        }
    }

    @Test
    void killEndsAStartedProcessAndAwaitReportsTheSignal() throws Exception {
        RunningProcess process = runner.start(Command.of("sleep", "1000").timeout(Duration.ofSeconds(30)));
        assertThat(process.await(Duration.ofMillis(50))).isEmpty();
        assertThat(process.isAlive()).isTrue();

        process.kill();
        ProcResult result = process.await();

        assertThat(process.isAlive()).isFalse();
        assertThat(result.signal()).isEqualTo(9);
        assertThat(result.timedOut()).isFalse();
        assertThat(process.await(Duration.ofMillis(1))).contains(result);
    }

    @Test
    void timeoutAppliesToStartedProcessesToo() throws Exception {
        RunningProcess process = runner.start(Command.of("sleep", "1000").timeout(Duration.ofMillis(200)));

        ProcResult result = process.await();

        assertThat(result.timedOut()).isTrue();
        assertThat(result.describe()).matches("sleep timed out after \\d+ms");
    }

    @Test
    void interruptingRunKillsTheChild() throws Exception {
        CompletableFuture<Long> pid = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                runner.run(Command.of("sh", "-c", "echo $$; exec sleep 1000").onStdoutLine(l -> pid.complete(Long.parseLong(l))));
            } catch (InterruptedException expected) {
                // the point of the test
            } catch (IOException e) {
                pid.completeExceptionally(e);
            }
        });
        caller.start();
        long child = pid.get(5, TimeUnit.SECONDS);

        caller.interrupt();
        caller.join(5000);

        assertThat(caller.isAlive()).isFalse();
        assertThat(Processes.awaitExit(child, Duration.ofSeconds(5))).isTrue();
    }
}
