package dev.ferry.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A contained command takes everything it started with it when it ends: children in its process
 * group, children that called {@code setsid}, and double-forked ones, whether it succeeded,
 * failed or timed out. The cgroup cases run where this host gives the runner a cgroup v2 subtree.
 */
class ContainedCommandTest {
    private static final Cgroups HOST = Cgroups.host();

    @TempDir
    Path dir;

    /** A shell line that leaves one sleeper per escape route and waits until each wrote its pid. */
    private String leaveChildren() {
        Path pids = dir.resolve("pids");
        return "sleep 7001 & echo $! >> " + pids + "; "
                + "setsid sh -c 'echo $$ >> \"$0\"; exec sleep 7002' " + pids + " & "
                + "( sh -c 'echo $$ >> \"$0\"; exec sleep 7003' " + pids + " & ) & "
                + "while [ \"$(cat " + pids + " 2>/dev/null | wc -l)\" -lt 3 ]; do sleep 0.01; done; ";
    }

    private List<Long> leftPids() throws Exception {
        return Files.readAllLines(dir.resolve("pids")).stream().map(String::strip).map(Long::parseLong).toList();
    }

    @Test
    void succeeding_inItsCgroup_everyChildIsDeadWhenItReturns() throws Exception {
        assumeTrue(HOST.available(), HOST::unavailable);
        ProcResult result = new ProcessRunner(HOST).run(Command.of("sh", "-c", leaveChildren() + "exit 0").containChildren());

        assertThat(result.ok()).as(result.describe()).isTrue();
        assertThat(result.containment()).isEqualTo(Containment.CGROUP);
        assertThat(leftPids()).hasSize(3).noneMatch(Processes::isAlive);
        assertThat(cgroupsOfThisJvm()).as("the run's cgroup is removed").isEmpty();
    }

    @Test
    void failing_inItsCgroup_everyChildIsDeadWhenItReturns() throws Exception {
        assumeTrue(HOST.available(), HOST::unavailable);
        ProcResult result = new ProcessRunner(HOST).run(Command.of("sh", "-c", leaveChildren() + "exit 3").containChildren());

        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(leftPids()).hasSize(3).noneMatch(Processes::isAlive);
    }

    @Test
    void timingOut_inItsCgroup_everyChildIsDeadWhenItReturns() throws Exception {
        assumeTrue(HOST.available(), HOST::unavailable);
        ProcResult result = new ProcessRunner(HOST).run(Command.of("sh", "-c", leaveChildren() + "exec sleep 7004")
                .containChildren().timeout(Duration.ofSeconds(2)));

        assertThat(result.timedOut()).isTrue();
        assertThat(leftPids()).hasSize(3).noneMatch(Processes::isAlive);
        assertThat(cgroupsOfThisJvm()).isEmpty();
    }

    @Test
    void aCallerInterruptedWhileItRuns_stillLeavesNoChildAndNoCgroup() throws Exception {
        assumeTrue(HOST.available(), HOST::unavailable);
        ProcessRunner runner = new ProcessRunner(HOST);
        Thread caller = new Thread(() -> {
            try {
                runner.run(Command.of("sh", "-c", leaveChildren() + "exec sleep 7005").containChildren());
            } catch (Exception e) {
                // Interrupted, as the test means it to be.
            }
        });
        caller.start();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> leftPids().size() == 3);

        caller.interrupt();

        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> leftPids().stream().noneMatch(Processes::isAlive)
                && cgroupsOfThisJvm().isEmpty());
        caller.join();
    }

    @Test
    void withoutCgroups_itsProcessGroupEnds_andTheResultSaysOnlyTheGroupWasContained() throws Exception {
        ProcessRunner runner = new ProcessRunner(Cgroups.none("no cgroup v2 in this test"));
        ProcResult result = runner.run(Command.of("sh", "-c", leaveChildren() + "exit 0").containChildren());

        assertThat(result.containment()).isEqualTo(Containment.PROCESS_GROUP);
        List<Long> left = leftPids();
        try {
            assertThat(Processes.awaitExit(left.get(0), Duration.ofSeconds(10))).as("the child in its process group").isTrue();
            assertThat(left.subList(1, 3)).as("the child that called setsid escapes the group").anyMatch(Processes::isAlive);
        } finally {
            left.stream().filter(Processes::isAlive).forEach(Processes::kill);
        }
    }

    @Test
    void aCommandNotContained_leavesItsChildrenAlone() throws Exception {
        ProcResult result = new ProcessRunner(HOST).run(Command.of("sh", "-c", leaveChildren() + "exit 0"));

        assertThat(result.containment()).isEqualTo(Containment.NONE);
        List<Long> left = leftPids();
        try {
            assertThat(left).allMatch(Processes::isAlive);
        } finally {
            left.forEach(Processes::kill);
        }
    }

    @Test
    void cgroup2Mount_andOwnPath_areReadFromProc() {
        List<String> mountinfo = List.of(
                "25 30 0:22 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
                "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw");

        assertThat(Cgroups.cgroup2Mount(mountinfo)).isEqualTo(Path.of("/sys/fs/cgroup/unified"));
        assertThat(Cgroups.cgroup2Mount(mountinfo.subList(0, 1))).isNull();
        assertThat(Cgroups.unifiedPath(List.of("4:memory:/x", "0::/system.slice/ferry.service")))
                .isEqualTo("/system.slice/ferry.service");
        assertThat(Cgroups.unifiedPath(List.of("4:memory:/x"))).isNull();
    }

    @Test
    void aHostWithoutCgroup2_fallsBack_andSaysWhy(@TempDir Path proc) throws Exception {
        Path mountinfo = Files.writeString(proc.resolve("mountinfo"), "25 30 0:22 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n");
        Path self = Files.writeString(proc.resolve("cgroup"), "4:memory:/\n");

        Cgroups none = Cgroups.probe(mountinfo, self);

        assertThat(none.available()).isFalse();
        assertThat(none.unavailable()).contains("no cgroup v2");
    }

    private List<Path> cgroupsOfThisJvm() throws Exception {
        Path base = HOST.create().procs().getParent();
        Files.delete(base);
        try (var dirs = Files.list(base.getParent())) {
            return dirs.filter(d -> d.getFileName().toString()
                    .startsWith(Cgroups.PREFIX + ProcessHandle.current().pid() + "-")).toList();
        }
    }
}
