package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.device.DeviceControllers;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.lab.FakeClock;
import dev.ferry.migration.PeerProtocol.Ownership;
import dev.ferry.migration.PeerProtocol.Prepared;
import dev.ferry.migration.PeerProtocol.Switchover;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.VmException;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.QemuTls;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IncomingMigrationsTest {
    private static final Duration RECEIVE = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();
    private final MemoryStore store = new MemoryStore();
    private final MemoryVms vms = new MemoryVms();
    private RecordingVmHost runtime;
    private IncomingMigrations incoming;

    @BeforeEach
    void setUp() {
        runtime = new RecordingVmHost(dir);
        incoming = incoming();
    }

    @AfterEach
    void tearDown() {
        runtime.close();
    }

    /** This host's incoming migrations, as a (re)started agent makes them. */
    private IncomingMigrations incoming() {
        return new IncomingMigrations(runtime, vms, store, new DeviceControllers(Map.of(), null), "127.0.0.1", clock,
                new DiskImages(new ProcessRunner()), dir.resolve("images"), Fakes.roots(dir));
    }

    static VmSpec spec(String name) {
        return new VmSpec(name, UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)), 64, 1,
                VmSpec.DEFAULT_MACHINE, null, List.of());
    }

    static PeerProtocol.Request request(String id, boolean guestRunning) {
        return request(id, guestRunning, PeerProtocol.VERSION);
    }

    static PeerProtocol.Request request(String id, boolean guestRunning, int protocol) {
        return new PeerProtocol.Request(protocol, id, "node1", spec("web1").toYaml(), "live", Map.of(), Map.of(), guestRunning);
    }

    private FakeQemu qemu() {
        return runtime.qemus.get("web1");
    }

    /** Prepared, and the incoming QEMU received the whole stream. */
    private void preparedAndReceived(String id, boolean guestRunning) throws Exception {
        incoming.prepare(request(id, guestRunning));
        qemu().migration = "completed";
    }

    @Test
    void prepare_journalsPrepareAndRecordsTheHistoryBeforeStartingQemu() throws Exception {
        AtomicReference<Optional<MigrationRecord>> recordAtStart = new AtomicReference<>();
        AtomicReference<List<JournalEntry>> journalAtStart = new AtomicReference<>();
        runtime.onStartIncoming = spec -> {
            recordAtStart.set(store.findMigration("m1"));
            journalAtStart.set(store.journal("m1"));
        };

        Prepared prepared = incoming.prepare(request("m1", true));

        assertThat(recordAtStart.get()).hasValueSatisfying(m -> {
            assertThat(m.role()).isEqualTo(Role.DESTINATION);
            assertThat(m.peer()).isEqualTo("node1");
            assertThat(m.result()).isNull();
        });
        assertThat(journalAtStart.get()).singleElement().satisfies(e -> {
            assertThat(e.phase()).isEqualTo(Phase.PREPARE);
            assertThat(e.event()).isEqualTo(JournalEvent.ENTER);
            assertThat(e.guestWasRunning()).isTrue();
        });
        assertThat(prepared.uri()).isEqualTo("tcp:127.0.0.1:4444");
        assertThat(qemu().commands).containsSubsequence("migrate-set-capabilities", "migrate-incoming", "query-migrate");
        assertThat(incoming.ownership("m1")).isEqualTo(Ownership.PREPARED);
    }

    @Test
    void prepare_askedAgain_answersTheSameWithoutStartingASecondQemu() throws Exception {
        Prepared first = incoming.prepare(request("m1", true));
        List<String> started = new CopyOnWriteArrayList<>();
        runtime.onStartIncoming = spec -> started.add(spec.name());

        Prepared again = incoming.prepare(request("m1", true));

        assertThat(again).isEqualTo(first);
        assertThat(started).isEmpty();
        assertThat(store.phases("m1")).containsExactly(Phase.PREPARE);
    }

    @Test
    void prepare_ofAMigrationThisHostAlreadyTook_isRefusedAndKeepsItsHistory() throws Exception {
        preparedAndReceived("m1", true);
        incoming.switchover("m1", RECEIVE);
        List<JournalEntry> before = store.journal("m1");

        assertThatThrownBy(() -> incoming.prepare(request("m1", true)))
                .isInstanceOf(MigrationException.class)
                .hasMessage("migration m1 is already resumed on this host; it cannot be prepared again");
        assertThat(store.findMigration("m1")).hasValueSatisfying(m -> assertThat(m.result()).isEqualTo(Result.COMPLETED));
        assertThat(store.journal("m1")).isEqualTo(before);
        assertThat(incoming.ownership("m1")).isEqualTo(Ownership.OWNED);
    }

    @Test
    void prepare_ofAMigrationInTheHistory_afterARestart_isRefused() throws Exception {
        incoming.prepare(request("m1", true));
        incoming.abort("m1");
        List<JournalEntry> before = store.journal("m1");

        assertThatThrownBy(() -> incoming().prepare(request("m1", true)))
                .isInstanceOf(MigrationException.class)
                .hasMessage("migration m1 is already rolled-back on this host; it cannot be prepared again");
        assertThat(store.journal("m1")).isEqualTo(before);
        assertThat(store.findMigration("m1")).hasValueSatisfying(m -> assertThat(m.result()).isEqualTo(Result.ROLLED_BACK));
    }

    @Test
    void prepare_arrivingAfterTheSourceAbortedIt_isRefusedAndStartsNothing() {
        // A stopped destination agent, continued, may run the source's queued abort before its queued prepare.
        List<String> started = new CopyOnWriteArrayList<>();
        runtime.onStartIncoming = spec -> started.add(spec.name());

        assertThatCode(() -> incoming.abort("m1")).doesNotThrowAnyException();

        assertThatThrownBy(() -> incoming.prepare(request("m1", true)))
                .isInstanceOf(MigrationException.class)
                .hasMessageContaining("migration m1 was aborted by its source before this host got to prepare it");
        assertThat(started).isEmpty();
        assertThat(store.findMigration("m1")).isEmpty();
    }

    @Test
    void prepare_whenQemuDoesNotStart_failsAndEndsRolledBack() {
        runtime.startFailure = new VmException("vm 'web1': qemu exited at start: boom");

        assertThatThrownBy(() -> incoming.prepare(request("m1", true)))
                .isInstanceOf(MigrationException.class)
                .hasMessage("vm 'web1': preparing the incoming QEMU failed: vm 'web1': qemu exited at start: boom");

        assertThat(store.phases("m1")).containsExactly(Phase.PREPARE, Phase.ROLLING_BACK, Phase.ROLLED_BACK);
        assertThat(store.findMigration("m1")).hasValueSatisfying(m -> assertThat(m.result()).isEqualTo(Result.ROLLED_BACK));
        assertThat(incoming.ownership("m1")).isEqualTo(Ownership.ABORTED);
        assertThat(vms.defined("web1")).isFalse();
    }

    @Test
    void prepare_whenTheStartedQemuRefusesToListen_destroysItAndEndsRolledBack() {
        runtime.onStarted = qemu -> qemu.failing = "migrate-incoming";

        assertThatThrownBy(() -> incoming.prepare(request("m1", true)))
                .isInstanceOf(MigrationException.class).hasMessageContaining("migrate-incoming failed");

        assertThat(qemu().destroyed).isTrue();
        assertThat(store.phases("m1")).containsExactly(Phase.PREPARE, Phase.ROLLING_BACK, Phase.ROLLED_BACK);
    }

    @Test
    void switchover_afterTheStreamArrived_recordsOwnershipBeforeResumingThenCompletes() throws Exception {
        preparedAndReceived("m1", true);
        AtomicReference<String> atResume = new AtomicReference<>();
        qemu().onResume = () -> atResume.set(vms.state("web1") + " " + store.phases("m1"));

        Switchover sw = incoming.switchover("m1", RECEIVE);

        assertThat(sw.resumed()).isTrue();
        assertThat(atResume.get()).isEqualTo("MIGRATING [PREPARE, SWITCHOVER]");
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
        assertThat(vms.handle("web1")).containsSame(qemu());
        assertThat(store.phases("m1")).containsExactly(Phase.PREPARE, Phase.SWITCHOVER, Phase.COMPLETED);
        assertThat(store.findMigration("m1")).hasValueSatisfying(m -> assertThat(m.result()).isEqualTo(Result.COMPLETED));
        assertThat(incoming.ownership("m1")).isEqualTo(Ownership.OWNED);
    }

    @Test
    void switchover_askedAgain_answersTheSameAndJournalsNothingMore() throws Exception {
        preparedAndReceived("m1", true);
        Switchover first = incoming.switchover("m1", RECEIVE);
        int entries = store.journal("m1").size();

        Switchover again = incoming.switchover("m1", RECEIVE);

        assertThat(again).isSameAs(first);
        assertThat(store.journal("m1")).hasSize(entries);
    }

    @Test
    void switchover_ofAGuestPausedOnTheSource_leavesItPausedAndSaysNotResumed() throws Exception {
        preparedAndReceived("m1", false);

        Switchover sw = incoming.switchover("m1", RECEIVE);

        assertThat(sw.resumed()).isFalse();
        assertThat(qemu().running).isFalse();
        assertThat(vms.state("web1")).isEqualTo(VmState.PAUSED);
        assertThat(store.journal("m1").get(0).guestWasRunning()).isFalse();
        assertThat(store.findMigration("m1")).hasValueSatisfying(m -> assertThat(m.result()).isEqualTo(Result.COMPLETED));
    }

    @Test
    void switchover_whenResumeFails_keepsTheVmOwnedAndPaused_andARetryResumesIt() throws Exception {
        preparedAndReceived("m1", true);
        qemu().resumeFailure = new VmException("vm 'web1': cont failed");

        assertThatThrownBy(() -> incoming.switchover("m1", RECEIVE))
                .isInstanceOf(MigrationException.class)
                .isNotInstanceOf(Destination.NotTakenException.class)
                .hasMessageContaining("owned here but did not resume")
                .hasMessageContaining("ferry vm resume web1");
        assertThat(vms.state("web1")).isEqualTo(VmState.PAUSED);
        assertThat(incoming.ownership("m1")).isEqualTo(Ownership.OWNED);
        assertThatThrownBy(() -> incoming.abort("m1")).hasMessageContaining("already belongs to this host");

        qemu().resumeFailure = null;
        assertThat(incoming.switchover("m1", RECEIVE).resumed()).isTrue();
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
        assertThat(store.phases("m1")).containsExactly(Phase.PREPARE, Phase.SWITCHOVER, Phase.COMPLETED);
    }

    @Test
    void switchover_whenTheIncomingMigrationFailed_saysNotTaken_andTheSourceCanAbort() throws Exception {
        incoming.prepare(request("m1", true));
        qemu().migration = "failed";

        assertThatThrownBy(() -> incoming.switchover("m1", RECEIVE))
                .isInstanceOf(Destination.NotTakenException.class).hasMessage("the incoming migration failed");
        assertThat(vms.defined("web1")).isFalse();

        incoming.abort("m1");
        assertThat(qemu().destroyed).isTrue();
        assertThat(store.phases("m1")).containsExactly(Phase.PREPARE, Phase.ROLLING_BACK, Phase.ROLLED_BACK);
        assertThat(incoming.ownership("m1")).isEqualTo(Ownership.ABORTED);
    }

    @Test
    void switchover_ofAnUnknownMigration_saysNotTaken() {
        assertThatThrownBy(() -> incoming.switchover("m9", RECEIVE))
                .isInstanceOf(Destination.NotTakenException.class).hasMessageContaining("m9");
    }

    @Test
    void abort_afterOwnership_isRefusedAndChangesNothing() throws Exception {
        preparedAndReceived("m1", true);
        incoming.switchover("m1", RECEIVE);

        assertThatThrownBy(() -> incoming.abort("m1"))
                .isInstanceOf(MigrationException.class)
                .hasMessage("migration m1: the VM already belongs to this host");
        assertThat(qemu().destroyed).isFalse();
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
    }

    @Test
    void abort_beforeOwnership_destroysQemuAndEndsRolledBack_andAgainIsHarmless() throws Exception {
        incoming.prepare(request("m1", true));

        incoming.abort("m1");
        incoming.abort("m1");

        assertThat(qemu().destroyed).isTrue();
        assertThat(store.phases("m1")).containsExactly(Phase.PREPARE, Phase.ROLLING_BACK, Phase.ROLLED_BACK);
        assertThatCode(() -> incoming.abort("never-heard-of")).doesNotThrowAnyException();
    }

    @Test
    void abort_afterARestart_ofAVmTakenBeforeIt_isRefusedFromTheHistory() throws Exception {
        preparedAndReceived("m1", true);
        incoming.switchover("m1", RECEIVE);

        IncomingMigrations restarted = incoming();

        assertThatThrownBy(() -> restarted.abort(request("m1", true)))
                .isInstanceOf(MigrationException.class)
                .hasMessage("migration m1: the VM already belongs to this host");
        assertThat(qemu().destroyed).isFalse();
    }

    @Test
    void abort_ofAMigrationNeverPrepared_isRecorded_andALatePrepareIsRefused() throws Exception {
        incoming.abort(request("m1", true));

        assertThat(store.findMigration("m1")).hasValueSatisfying(m -> assertThat(m.result()).isEqualTo(Result.ROLLED_BACK));
        assertThat(incoming.ownership("m1")).isEqualTo(Ownership.ABORTED);
        assertThatThrownBy(() -> incoming.prepare(request("m1", true)))
                .isInstanceOf(MigrationException.class)
                .hasMessage("migration m1 is already rolled-back on this host; it cannot be prepared again");
        assertThat(runtime.qemus).doesNotContainKey("web1");
        assertThatCode(() -> incoming.abort(request("m1", true))).doesNotThrowAnyException();
    }

    @Test
    void check_ofAnotherProtocolVersion_isRefusedNamingBothVersions() {
        List<MigrationReport.Blocker> blockers = incoming.check(request("m1", true, 1));

        assertThat(blockers).singleElement().satisfies(b -> assertThat(b.reason()).isEqualTo(
                "the source speaks peer protocol version 1 and this host speaks version " + PeerProtocol.VERSION
                        + "; run the same Ferry version on both hosts"));
    }

    @Test
    void check_ofTheSameVersion_passesWhenTheHostCanTakeTheVm_andNamesWhatStopsIt() {
        assertThat(incoming.check(request("m1", true))).isEmpty();

        vms.blockers = List.of("not enough memory: 64 MiB asked, 16 MiB free");
        assertThat(incoming.check(request("m1", true))).extracting(MigrationReport.Blocker::reason)
                .containsExactly("not enough memory: 64 MiB asked, 16 MiB free");
    }

    @Test
    void check_ofTheVeryVmThatIsLeavingThisHost_isRefusedAsItsOwnHost() {
        VmSpec web1 = spec("web1");
        vms.add(web1, VmState.MIGRATING);

        List<MigrationReport.Blocker> blockers = incoming.check(new PeerProtocol.Request(PeerProtocol.VERSION, "m1",
                "node1", web1.toYaml(), "live", Map.of(), Map.of(), true));

        assertThat(blockers).singleElement().satisfies(b -> assertThat(b.reason()).isEqualTo("vm 'web1' (uuid "
                + web1.uuid() + ") is migrating away from this host: the destination is the VM's own host ('node1');"
                + " migrate it to another host"));
    }

    @Test
    void prepare_ofAnotherProtocolVersion_isRefusedBeforeAnythingIsJournaledOrStarted() {
        assertThatThrownBy(() -> incoming.prepare(request("m1", true, 0)))
                .isInstanceOf(MigrationException.class)
                .hasMessageContaining("sent no peer protocol version")
                .hasMessageContaining("this host speaks version " + PeerProtocol.VERSION);
        assertThat(store.journal("m1")).isEmpty();
        assertThat(runtime.qemus).isEmpty();
    }

    @Test
    void ownership_afterARestart_isAnsweredFromTheHistory() throws Exception {
        preparedAndReceived("m1", true);
        incoming.switchover("m1", RECEIVE);
        incoming.prepare(new PeerProtocol.Request(PeerProtocol.VERSION, "m2", "node1", spec("db1").toYaml(), "live",
                Map.of(), Map.of(), true));
        incoming.abort("m2");

        IncomingMigrations restarted = incoming();

        assertThat(restarted.ownership("m1")).isEqualTo(Ownership.OWNED);
        assertThat(restarted.ownership("m2")).isEqualTo(Ownership.ABORTED);
        assertThat(restarted.ownership("m3")).isEqualTo(Ownership.UNKNOWN);
        assertThat(restarted.switchover("m1", RECEIVE).resumed()).isTrue();
    }

    @Test
    void prepare_withStreamTls_givesQemuItsCredentialsAndTheAuthorization_beforeItListens() throws Exception {
        IncomingMigrations tls = new IncomingMigrations(runtime, vms, store, new DeviceControllers(Map.of(), null),
                "127.0.0.1", clock, new DiskImages(new ProcessRunner()), dir.resolve("images"), Fakes.roots(dir),
                new QemuTls(dir.resolve("pki")));

        tls.prepare(request("m1", true), "CN=node1,OU=hosts,O=Ferry cluster");

        assertThat(qemu().commands).containsSubsequence("object-add", "object-add", "migrate-set-parameters",
                "migrate-incoming");
    }

    @Test
    void prepare_withStreamTls_ofASourceWithoutCertificate_isRefusedAndStartsNothing() {
        IncomingMigrations tls = new IncomingMigrations(runtime, vms, store, new DeviceControllers(Map.of(), null),
                "127.0.0.1", clock, new DiskImages(new ProcessRunner()), dir.resolve("images"), Fakes.roots(dir),
                new QemuTls(dir.resolve("pki")));

        assertThatThrownBy(() -> tls.prepare(request("m1", true), null))
                .isInstanceOf(MigrationException.class)
                .hasMessageContaining("over TLS only").hasMessageContaining("'node1'");
        assertThat(runtime.qemus).isEmpty();
        assertThat(store.findMigration("m1")).isEmpty();
    }
}
