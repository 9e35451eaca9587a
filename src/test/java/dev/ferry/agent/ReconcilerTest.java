package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.store.StateStore;
import dev.ferry.agent.store.VmRecord;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReconcilerTest {
    private static final Instant T0 = Instant.parse("2030-01-01T12:00:00Z");

    @TempDir
    Path dir;
    private FakeVmHost host;
    private StateStore store;
    private VmTable vms;
    private final List<VmEvent> events = new ArrayList<>();
    private Reconciler reconciler;
    private JobLeases leases;

    @BeforeEach
    void setUp() {
        host = new FakeVmHost(dir.resolve("run"));
        store = StateStore.open(dir.resolve("ferry.db"));
        EventBus bus = new EventBus();
        bus.subscribe(events::add);
        Clock clock = Clock.fixed(T0.plusSeconds(60), ZoneOffset.UTC);
        vms = new VmTable(store, bus, clock);
        leases = new JobLeases(clock);
        reconciler = new Reconciler(vms, host, leases);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    private void recorded(String name, VmState state) {
        store.insertVm(new VmRecord(name, "uuid-" + name, "name: " + name, "/", state, T0));
    }

    private VmState stateOf(String name) {
        return store.findVm(name).orElseThrow().state();
    }

    @Test
    void atStart_aliveVm_isReattachedAndKeepsItsState() throws VmException {
        recorded("web1", VmState.RUNNING);
        host.start(FakeSpecs.spec("web1"));

        reconciler.atStart();

        assertThat(stateOf("web1")).isEqualTo(VmState.RUNNING);
        assertThat(vms.handle("web1")).isPresent();
        assertThat(host.cleanedUp).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void atStart_aliveVmPausedMeanwhile_takesTheStateQemuReports() throws VmException {
        recorded("web1", VmState.RUNNING);
        host.start(FakeSpecs.spec("web1")).pause();

        reconciler.atStart();

        assertThat(stateOf("web1")).isEqualTo(VmState.PAUSED);
        assertThat(events).containsExactly(new VmEvent("web1", "running", "paused", T0.plusSeconds(60)));
    }

    @Test
    void atStart_deadVm_isMarkedCrashedAndCleanedUp() {
        recorded("web1", VmState.RUNNING);
        recorded("web2", VmState.PAUSED);

        reconciler.atStart();

        assertThat(stateOf("web1")).isEqualTo(VmState.CRASHED);
        assertThat(stateOf("web2")).isEqualTo(VmState.CRASHED);
        assertThat(host.cleanedUp).containsExactlyInAnyOrder("web1", "web2");
        assertThat(vms.handle("web1")).isEmpty();
    }

    @Test
    void atStart_vmThatWasStoppingAndIsGone_isStopped() {
        recorded("web1", VmState.STOPPING);

        reconciler.atStart();

        assertThat(stateOf("web1")).isEqualTo(VmState.STOPPED);
        assertThat(host.cleanedUp).containsExactly("web1");
    }

    @Test
    void atStart_vmsWithoutProcess_areNotAskedAbout() {
        recorded("a", VmState.DEFINED);
        recorded("b", VmState.STOPPED);
        recorded("c", VmState.CRASHED);
        host.failReattach = true;

        reconciler.atStart();

        assertThat(store.listVms()).extracting(VmRecord::state)
                .containsExactly(VmState.DEFINED, VmState.STOPPED, VmState.CRASHED);
    }

    @Test
    void atStart_reattachFails_keepsTheRecordedState() {
        recorded("web1", VmState.RUNNING);
        host.failReattach = true;

        reconciler.atStart();

        assertThat(stateOf("web1")).isEqualTo(VmState.RUNNING);
        assertThat(host.cleanedUp).isEmpty();
    }

    @Test
    void checkExited_vmWhoseQemuExited_isRecordedAndCleanedUp() throws VmException {
        recorded("web1", VmState.RUNNING);
        recorded("web2", VmState.RUNNING);
        host.start(FakeSpecs.spec("web1"));
        host.start(FakeSpecs.spec("web2"));
        reconciler.atStart();

        host.exit("web1", VmState.STOPPED);
        reconciler.checkExited();

        assertThat(stateOf("web1")).isEqualTo(VmState.STOPPED);
        assertThat(stateOf("web2")).isEqualTo(VmState.RUNNING);
        assertThat(vms.handle("web1")).isEmpty();
        assertThat(host.cleanedUp).containsExactly("web1");
    }

    @Test
    void checkExited_vmHeldByAJob_isLeftToThatJob() throws VmException {
        recorded("web1", VmState.RUNNING);
        host.start(FakeSpecs.spec("web1"));
        reconciler.atStart();
        host.exit("web1", VmState.CRASHED);

        try (JobLeases.Lease stop = leases.acquire("web1", "stop")) {
            reconciler.checkExited();
        }

        assertThat(stateOf("web1")).isEqualTo(VmState.RUNNING);
        reconciler.checkExited();
        assertThat(stateOf("web1")).isEqualTo(VmState.CRASHED);
    }
}
