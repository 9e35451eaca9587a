package dev.ferry.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.DeviceException;
import dev.ferry.device.Mode;
import dev.ferry.device.QmpGuestControl;
import dev.ferry.device.Step;
import dev.ferry.migration.IncomingMigrations.Ownership;
import dev.ferry.migration.IncomingRequest;
import dev.ferry.migration.MigrationCoordinator;
import dev.ferry.migration.MigrationException;
import dev.ferry.migration.Phase;
import dev.ferry.migration.QmpSourceQemu;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After a restart, settles the migrations this host was driving as their source, one branch per
 * where the journal says it stood. Nothing is guessed: a migration past CHECK asks the
 * destination whether it took the VM; while the destination cannot be reached, the VM stays as
 * it is (recorded as migrating) and the question is asked again every few seconds.
 */
final class SourceRecovery {
    private static final Logger log = LoggerFactory.getLogger(SourceRecovery.class);
    private static final Duration RETRY = Duration.ofSeconds(5);

    private final AgentConfig config;
    private final VmTable vms;
    private final JobLeases leases;
    private final SpecReader specs;
    private final DeviceControllers devices;
    private final Clock clock;
    private final ObjectMapper json;
    private final ScheduledExecutorService retries;

    SourceRecovery(AgentConfig config, VmTable vms, JobLeases leases, SpecReader specs, DeviceControllers devices,
                   Clock clock, ObjectMapper json, ScheduledExecutorService retries) {
        this.config = config;
        this.vms = vms;
        this.leases = leases;
        this.specs = specs;
        this.devices = devices;
        this.clock = clock;
        this.json = json;
        this.retries = retries;
    }

    void recoverAtStart() {
        for (MigrationRecord m : vms.store().listMigrations()) {
            if (m.role() == JournalEntry.Role.SOURCE && m.result() == null) {
                attempt(m);
            }
        }
    }

    private void attempt(MigrationRecord m) {
        try (JobLeases.Lease lease = leases.acquire(m.vm(), "recovery of migration " + m.id())) {
            if (!settle(m)) {
                retries.schedule(() -> attempt(m), RETRY.toSeconds(), TimeUnit.SECONDS);
            }
        } catch (RuntimeException e) {
            log.error("migration {}: recovery failed, trying again in {} s", m.id(), RETRY.toSeconds(), e);
            retries.schedule(() -> attempt(m), RETRY.toSeconds(), TimeUnit.SECONDS);
        }
    }

    /** Returns false when it cannot decide yet (the destination does not answer). */
    private boolean settle(MigrationRecord m) {
        List<JournalEntry> journal = vms.store().journal(m.id());
        String last = journal.stream().filter(e -> "enter".equals(e.event())).reduce((a, b) -> b)
                .map(JournalEntry::phase).orElse(Phase.CHECK.wireName());
        boolean wasRunning = journal.stream().filter(e -> "enter".equals(e.event())).findFirst()
                .map(e -> !MigrationCoordinator.GUEST_WAS_PAUSED.equals(e.detail())).orElse(true);
        Optional<VmRecord> vm = vms.store().findVm(m.vm());
        if (vm.isEmpty()) {
            finish(m, "completed", "the VM had already left this host");
            return true;
        }
        if (m.mode().equals(Mode.SAVE.wireName()) || last.equals(Phase.CHECK.wireName())) {
            // Nothing reached another host: a save's partial file is not the VM, CHECK touched nothing.
            rollBack(m, vm.get(), journal, wasRunning, null);
            return true;
        }
        PeerClient peer = peer(m);
        Ownership ownership;
        try {
            ownership = peer.ownership();
        } catch (MigrationException e) {
            log.warn("migration {} of vm '{}': cannot ask {} who owns the VM ({}); the VM stays as it is and I ask again",
                    m.id(), m.vm(), m.peer(), e.getMessage());
            return false;
        }
        if (ownership == Ownership.OWNED) {
            leave(m, vm.get());
        } else {
            rollBack(m, vm.get(), journal, wasRunning, peer);
        }
        return true;
    }

    /** The destination owns the VM: quit the copy here, keep its serial log, forget it. */
    private void leave(MigrationRecord m, VmRecord vm) {
        Optional<VmHandle> handle = vms.handle(vm.name());
        if (handle.isPresent()) {
            SourceMigrations.keepSerialLog(handle.get(), SourceMigrations.keptSerialLog(config, m.vm(), m.id()));
            try {
                handle.get().destroy();
            } catch (VmException e) {
                log.error("migration {}: cannot quit the source copy of vm '{}': {}", m.id(), vm.name(), e.getMessage());
            }
            vms.detach(vm.name());
        }
        vms.removed(vms.record(vm.name()));
        finish(m, "completed", "the destination had taken the VM; the source cleaned up after its restart");
    }

    /** The destination did not take the VM: undo what the journal says was started, resume if it ran. */
    private void rollBack(MigrationRecord m, VmRecord vm, List<JournalEntry> journal, boolean wasRunning, PeerClient peer) {
        List<String> problems = new ArrayList<>();
        if (peer != null) {
            try {
                peer.abort();
            } catch (MigrationException e) {
                problems.add("destination abort: " + e.getMessage());
            }
        }
        Optional<VmHandle> handle = vms.handle(vm.name());
        if (handle.isEmpty() || !handle.get().isAlive()) {
            vms.move(vm.name(), VmState.CRASHED);
            finish(m, "failed", "the source's QEMU was gone after the restart");
            return;
        }
        VmHandle h = handle.get();
        QmpSourceQemu qemu = new QmpSourceQemu(vm.name(), h.qmp(), clock, () -> {});
        try {
            qemu.cancelMigration();
        } catch (MigrationException e) {
            problems.add("cancel: " + e.getMessage());
        }
        problems.addAll(recoverDevices(m, vm, journal, h));
        VmState state = VmState.PAUSED;
        if (wasRunning) {
            try {
                qemu.resume();
                state = VmState.RUNNING;
            } catch (MigrationException e) {
                problems.add("resume: " + e.getMessage());
            }
        }
        vms.move(vm.name(), state);
        finish(m, problems.isEmpty() ? "rolled-back" : "failed", problems.isEmpty()
                ? "rolled back after the agent restarted" : String.join("; ", problems));
    }

    /** Recovers, newest first, every device the journal shows started, with the last step it completed. */
    private List<String> recoverDevices(MigrationRecord m, VmRecord vm, List<JournalEntry> journal, VmHandle h) {
        Map<String, Step> lastGood = new LinkedHashMap<>();
        for (JournalEntry e : journal) {
            if (e.device() == null || e.step() == null || e.step().equals("recover") || e.step().equals("check")) {
                continue;
            }
            Step step = Step.fromToolName(e.step());
            lastGood.putIfAbsent(e.device(), Step.CHECK);
            if ("ok".equals(e.event()) && step.compareTo(lastGood.get(e.device())) > 0) {
                lastGood.put(e.device(), step);
            }
        }
        List<String> problems = new ArrayList<>();
        VmSpec spec;
        try {
            spec = specs.read(vm.specYaml(), Path.of(vm.baseDir()));
        } catch (SpecException e) {
            return List.of("the VM's spec no longer parses: " + e.getMessage());
        }
        List<DeviceControllers.Bound> bound = devices.bind(spec, new QmpGuestControl(h.qmp()));
        List<String> started = new ArrayList<>(lastGood.keySet());
        for (int i = started.size() - 1; i >= 0; i--) {
            String id = started.get(i);
            for (DeviceControllers.Bound b : bound) {
                if (b.ref().id().equals(id)) {
                    DeviceContext ctx = new DeviceContext(vm.name(), vm.uuid(), b.ref(), Mode.LIVE, m.peer(), e -> {});
                    try {
                        b.controller().recover(ctx, lastGood.get(id));
                    } catch (DeviceException | RuntimeException e) {
                        problems.add(b.ref().describe() + " recover: " + e.getMessage());
                    }
                }
            }
        }
        return problems;
    }

    private void finish(MigrationRecord m, String result, String detail) {
        vms.store().appendJournal(new JournalEntry(m.id(), m.vm(), m.role(), m.peer(), result, null, null, "recovered",
                clock.instant(), detail));
        vms.store().saveMigration(new MigrationRecord(m.id(), m.vm(), m.role(), m.peer(), m.mode(), result, null,
                m.startedAt(), clock.instant()));
        log.warn("migration {} of vm '{}' settled after a restart: {} ({})", m.id(), m.vm(), result, detail);
    }

    private PeerClient peer(MigrationRecord m) {
        URI url = config.peers().get(m.peer());
        if (url == null) {
            url = URI.create(m.peer());
        }
        return new PeerClient(m.peer(), url, new IncomingRequest(m.id(), config.host(), "", Mode.LIVE.wireName()),
                json, clock, Duration.ZERO);
    }
}
