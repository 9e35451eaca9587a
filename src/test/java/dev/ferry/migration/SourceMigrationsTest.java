package dev.ferry.migration;

import dev.ferry.vm.PathRoots;
import static dev.ferry.migration.IncomingMigrationsTest.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.Mode;
import dev.ferry.lab.FakeClock;
import dev.ferry.migration.RequestException.Kind;
import dev.ferry.vm.VmState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the source does around a migration: the history row and the VM's state before it runs,
 * the VM's state after it ends, the operator's cancel, and what list and show say meanwhile.
 * The migration itself runs against a fake QEMU and a fake destination agent over HTTP.
 */
class SourceMigrationsTest {
    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();
    private final MemoryStore store = new MemoryStore();
    private final MemoryVms vms = new MemoryVms();
    private final ObjectMapper json = new ObjectMapper().findAndRegisterModules();
    private final ExecutorService io = Executors.newCachedThreadPool();
    private final ExecutorService steps = Executors.newCachedThreadPool();
    private final ScheduledThreadPoolExecutor retries = new ScheduledThreadPoolExecutor(1);
    private final HeldExecutor workers = new HeldExecutor();
    private FakePeer peer;
    private FakeQemu qemu;
    private SourceMigrations source;

    @BeforeEach
    void setUp() throws Exception {
        peer = new FakePeer();
        DeviceControllers devices = new DeviceControllers(Map.of(), null);
        Peers peers = new Peers(Map.of("dst", peer.url()), json, clock, io);
        SourceRecovery recovery = new SourceRecovery("src", vms, store, peers, devices, dir.resolve("kept"), clock,
                json, retries, steps);
        source = new SourceMigrations("src", vms, store, peers, devices, null, dir.resolve("kept"), clock, json,
                workers, steps, recovery, Fakes.roots(dir));
    }

    @AfterEach
    void tearDown() {
        peer.release();
        peer.close();
        if (qemu != null) {
            qemu.close();
        }
        io.shutdownNow();
        steps.shutdownNow();
        retries.shutdownNow();
    }

    private void vmHere(boolean running) throws Exception {
        qemu = new FakeQemu("web1", dir, running);
        vms.with(spec("web1"), running ? VmState.RUNNING : VmState.PAUSED, qemu);
    }

    private MigrationStatus migrate() {
        return source.migrate("web1", "dst", MigrationParams.defaults(), false);
    }

    private MigrationRecord record(String id) {
        return store.findMigration(id).orElseThrow();
    }

    @Test
    void migrate_recordsTheHistoryAndMovesTheVmToMigratingBeforeTheMigrationRuns() throws Exception {
        vmHere(true);

        MigrationStatus status = migrate();

        assertThat(workers.held()).isEqualTo(1);
        assertThat(record(status.id())).satisfies(m -> {
            assertThat(m.role()).isEqualTo(Role.SOURCE);
            assertThat(m.peer()).isEqualTo("dst");
            assertThat(m.mode()).isEqualTo(Mode.LIVE);
            assertThat(m.result()).isNull();
        });
        assertThat(store.journal(status.id())).isEmpty();
        assertThat(vms.state("web1")).isEqualTo(VmState.MIGRATING);
        assertThat(vms.leases).containsKey("web1");
        assertThat(status.running()).isTrue();
        assertThat(status.phase()).isEqualTo("check");
        assertThat(source.list()).singleElement().satisfies(s -> assertThat(s.running()).isTrue());
        assertThat(peer.calls).isEmpty();
    }

    @Test
    void migrate_thatCompletes_forgetsTheVmHereAndStoresTheReport() throws Exception {
        vmHere(true);
        String id = migrate().id();

        workers.runAll();

        assertThat(vms.defined("web1")).isFalse();
        assertThat(qemu.destroyed).isTrue();
        assertThat(vms.leases).isEmpty();
        assertThat(record(id).result()).isEqualTo(Result.COMPLETED);
        assertThat(peer.steps()).containsExactly("check", "prepare", "switchover");
        MigrationStatus shown = source.show(id);
        assertThat(shown.running()).isFalse();
        assertThat(shown.phase()).isEqualTo("completed");
        assertThat(shown.report().qemuDowntimeMs()).isEqualTo(42);
        assertThat(dir.resolve("kept/web1." + id + ".serial.log")).exists();
    }

    @Test
    void migrate_whoseWorkerDiesOfAnErrorStoringTheReport_stillRecordsHowItEnded() throws Exception {
        vmHere(true);
        store.failFinalSaveOnce = new OutOfMemoryError("Java heap space");
        String id = migrate().id();

        workers.runAll();

        assertThat(record(id).result()).isEqualTo(Result.COMPLETED);
        assertThat(source.show(id).running()).isFalse();
        assertThat(source.show(id).phase()).isEqualTo("completed");
        assertThat(vms.leases).isEmpty();
    }

    @Test
    void migrate_whoseWorkerDiesMidWay_isRecordedFailed_withTheReason() throws Exception {
        vmHere(true);
        store.failFinalJournalOnce = new IllegalStateException("a listener broke");
        String id = migrate().id();

        workers.runAll();

        assertThat(record(id).result()).isEqualTo(Result.FAILED);
        MigrationStatus shown = source.show(id);
        assertThat(shown.running()).isFalse();
        assertThat(shown.report().failure().message()).contains("worker died").contains("a listener broke")
                .contains("passed switchover");
        assertThat(store.phases(id)).last().isEqualTo(Phase.FAILED);
        assertThat(vms.defined("web1")).as("the guest had left: its QEMU here was quit").isFalse();
        assertThat(vms.leases).isEmpty();
    }

    @Test
    void migrate_thatRollsBack_recordsTheVmRunningAgain() throws Exception {
        vmHere(true);
        peer.refuse("prepare", 500, "failed", "swtpm failed to start");
        String id = migrate().id();

        workers.runAll();

        assertThat(record(id).result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
        assertThat(peer.steps()).containsExactly("check", "prepare", "abort");
        assertThat(source.show(id).report().failure().message()).contains("swtpm failed to start");
        assertThat(vms.leases).isEmpty();
    }

    @Test
    void migrate_ofAPausedGuestThatRollsBack_recordsItPausedAgain() throws Exception {
        vmHere(false);
        peer.refuse("prepare", 500, "failed", "swtpm failed to start");
        String id = migrate().id();

        workers.runAll();

        assertThat(record(id).result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(vms.state("web1")).isEqualTo(VmState.PAUSED);
        assertThat(qemu.commands).doesNotContain("cont");
    }

    @Test
    void migrate_whoseDestinationNeverAnswersTheSwitchover_staysMigratingAndIsSettledLater() throws Exception {
        vmHere(true);
        peer.refuse("switchover", 500, "failed", "disk full");
        String id = migrate().id();

        workers.runAll();

        assertThat(record(id).result()).isEqualTo(Result.FAILED);
        assertThat(source.show(id).report().ownerUnknown()).isTrue();
        assertThat(vms.state("web1")).isEqualTo(VmState.MIGRATING);
        assertThat(qemu.destroyed).isFalse();
        assertThat(qemu.commands).doesNotContain("cont");
        assertThat(retries.getQueue()).hasSize(1);
    }

    @Test
    void cancel_beforeTheMigrationGotFar_rollsItBackAndTheVmRunsAgain() throws Exception {
        vmHere(true);
        String id = migrate().id();

        MigrationStatus cancelled = source.cancel(id);
        workers.runAll();

        assertThat(cancelled.running()).isTrue();
        assertThat(record(id).result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(source.show(id).report().failure().message()).contains("cancelled by the operator");
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
        assertThat(peer.steps()).doesNotContain("prepare");
    }

    @Test
    void cancel_pastSwitchover_isRefused() throws Exception {
        vmHere(true);
        peer.hold("switchover");
        String id = migrate().id();
        CompletableFuture<Void> running = CompletableFuture.runAsync(workers::runAll);
        peer.awaitHeld();
        await().atMost(Duration.ofSeconds(5)).until(() -> source.show(id).phase().equals("switchover"));

        assertThatThrownBy(() -> source.cancel(id))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT))
                .hasMessageContaining("past switchover");

        peer.release();
        running.get();
        assertThat(record(id).result()).isEqualTo(Result.COMPLETED);
    }

    @Test
    void tune_checksItsValues_takesThemWhileTheMigrationRuns_andIsRefusedOnceItEnded() throws Exception {
        vmHere(true);
        peer.refuse("prepare", 500, "failed", "swtpm failed to start");
        String id = migrate().id();

        assertThatThrownBy(() -> source.tune(id, null, null))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID))
                .hasMessage("nothing to change: give bandwidthMiB, downtimeMs or both");
        assertThatThrownBy(() -> source.tune(id, -1L, null))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID))
                .hasMessageContaining("bandwidthMiB must be 0 (no cap) or a positive MiB/s, was -1");
        assertThatThrownBy(() -> source.tune(id, null, 0L))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID))
                .hasMessageContaining("downtimeMs must be a positive number of milliseconds, was 0");
        assertThat(source.tune(id, 16L, 500L).running()).isTrue();

        workers.runAll();
        assertThatThrownBy(() -> source.tune(id, 16L, null))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT))
                .hasMessage("migration '" + id + "' is not running: rolled-back");
    }

    @Test
    void cancel_ofAnEndedMigration_isRefusedSayingHowItEnded() throws Exception {
        vmHere(true);
        peer.refuse("prepare", 500, "failed", "swtpm failed to start");
        String id = migrate().id();
        workers.runAll();

        assertThatThrownBy(() -> source.cancel(id))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT))
                .hasMessage("migration '" + id + "' already ended: rolled-back");
    }

    @Test
    void listAndShow_ofAMigrationWithoutResultOrLiveRun_showItRunningAtItsJournalsPhase_andCancelIsRefused() {
        store.saveMigration(new MigrationRecord("m9", "web1", Role.SOURCE, "dst", Mode.LIVE, null, null,
                clock.instant(), clock.instant()));
        Journal journal = new Journal(store, "m9", "web1", Role.SOURCE, "dst", clock);
        journal.enterCheck(true);
        journal.enter(Phase.PREPARE, "");
        journal.enter(Phase.PRE_SUSPEND, "");
        journal.enter(Phase.RAM_COPY, "");

        assertThat(source.show("m9")).satisfies(s -> {
            assertThat(s.running()).isTrue();
            assertThat(s.phase()).isEqualTo("ram-copy");
            assertThat(s.report()).isNull();
        });
        assertThat(source.list()).singleElement().satisfies(s -> assertThat(s.phase()).isEqualTo("ram-copy"));
        assertThatThrownBy(() -> source.cancel("m9"))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT))
                .hasMessageContaining("being settled from its journal")
                .hasMessageContaining("ram-copy");
    }

    @Test
    void show_ofAnUnknownMigration_isNotFound() {
        assertThatThrownBy(() -> source.show("nope"))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    }

    @Test
    void migrate_ofAStoppedVm_isRefusedAndLetsGoOfTheLease() {
        vms.with(spec("web1"), VmState.STOPPED, null);

        assertThatThrownBy(this::migrate)
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT))
                .hasMessageContaining("vm 'web1' is stopped");
        assertThat(vms.leases).isEmpty();
        assertThat(store.listMigrations()).isEmpty();
    }

    @Test
    void migrate_toAnUnknownPeer_isRefusedNamingTheKnownOnes() throws Exception {
        vmHere(true);

        assertThatThrownBy(() -> source.migrate("web1", "node9", MigrationParams.defaults(), false))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID))
                .hasMessageContaining("[dst]");
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
    }

    @Test
    void migrate_toThisHostByName_isRefusedAtOnceSayingSo() throws Exception {
        vmHere(true);

        assertThatThrownBy(() -> source.migrate("web1", "src", MigrationParams.defaults(), false))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID))
                .hasMessage("to: 'src' is this host, where vm 'web1' is now; migrate it to another host");
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
        assertThat(vms.leases).isEmpty();
        assertThat(store.listMigrations()).isEmpty();
    }
}
