package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.LabAgent;
import dev.ferry.lab.TestGuest;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.Processes;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent stopped while its VM runs, its state database damaged (truncated, garbage in the
 * middle) or deleted: the next start refuses, saying what is wrong and how to recover, and leaves
 * the VM (QEMU and swtpm) running; {@code ferry agent repair} restores the newest backup, and the
 * following start reattaches to the same QEMU.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StateCorruptionIT {
    private static final String VM = "statevm";
    /** TCG on a machine shared with other builds boots slowly; this bounds a wait for progress, not its speed. */
    private static final Duration BOOT = Duration.ofMinutes(5);

    private Lab lab;
    private LabAgent agent;
    private Api api;
    private long qemuPid;

    @BeforeAll
    void aVmRuns(@TempDir Path root) throws Exception {
        lab = Lab.in(root).hosts(Lab.A).start();
        agent = lab.agent(Lab.A);
        api = lab.api(Lab.A);
        Path image = TestGuest.createDisk(root.resolve("state-data.qcow2"));
        Path serial = lab.defineAndStart(Lab.A, VM, TestGuest.named(VM).disk(image).yaml());
        GuestConsole up = GuestConsole.await(serial, c -> c.pcrs().size() == 8 && c.lastWrote() >= 3, BOOT);
        assertThat(up.lastWrote()).as("the guest booted; see %s", serial).isGreaterThanOrEqualTo(3);
        qemuPid = api.qemuPid(VM);
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void truncatedDatabase_refusesToStart_thenRepairAndStartReattach() throws Exception {
        agent.stop();
        try (FileChannel ch = FileChannel.open(database(), StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }

        refusesAndRepairs("is damaged");
    }

    @Test
    void garbageInTheMiddleOfTheDatabase_refusesToStart_thenRepairAndStartReattach() throws Exception {
        agent.stop();
        long size = Files.size(database());
        byte[] garbage = new byte[4096];
        new Random(11).nextBytes(garbage);
        try (RandomAccessFile f = new RandomAccessFile(database().toFile(), "rw")) {
            f.seek(size / 2 / 4096 * 4096);
            f.write(garbage);
        }

        refusesAndRepairs("is damaged");
    }

    @Test
    void missingDatabaseWithRunDirectories_refusesToStart_thenRepairAndStartReattach() throws Exception {
        agent.stop();
        Files.delete(database());

        refusesAndRepairs("is missing (or empty), but " + agent.runRoot() + " holds run directories of [" + VM + "]");
    }

    private void refusesAndRepairs(String what) throws Exception {
        assertThatThrownBy(agent::start).hasMessageContaining(what).hasMessageContaining("touched no VM")
                .hasMessageContaining("ferry agent repair");
        guestRunsUntouched();

        ProcResult repaired = agent.repair();

        assertThat(repaired.ok()).as("repair: %s\n%s", repaired.describe(), repaired.stdout().text()).isTrue();
        assertThat(repaired.stdout().text()).contains("restored the backup").contains("vm '" + VM + "' runs (QEMU pid "
                + qemuPid + ")");
        guestRunsUntouched();
        agent.start();
        assertThat(api.vmState(VM)).isEqualTo("running");
        assertThat(api.qemuPid(VM)).as("the agent reattached to the same QEMU").isEqualTo(qemuPid);
    }

    private void guestRunsUntouched() throws Exception {
        assertThat(Processes.isAlive(qemuPid)).as("the VM's QEMU runs on").isTrue();
        Path serial = agent.runRoot().resolve(VM).resolve("serial.log");
        long ticks = GuestConsole.read(serial).lastTick();
        GuestConsole later = GuestConsole.await(serial, c -> c.lastTick() >= ticks + 3, BOOT);
        assertThat(later.lastTick()).as("the guest goes on ticking").isGreaterThanOrEqualTo(ticks + 3);
        assertThat(lab.processesIn(agent.runRoot()).stream()
                .filter(p -> Processes.arguments(p).map(a -> a.get(0).contains("swtpm")).orElse(false)))
                .as("the VM's swtpm runs on").hasSize(1);
    }

    private Path database() {
        return agent.dataDir().resolve("ferry.db");
    }
}
