package dev.ferry.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.DeviceEvent;
import dev.ferry.device.DiskException;
import dev.ferry.device.DiskImage;
import dev.ferry.device.DiskImages;
import dev.ferry.device.GuestControl;
import dev.ferry.device.Mode;
import dev.ferry.device.QmpGuestControl;
import dev.ferry.migration.Cancellation;
import dev.ferry.migration.Destination;
import dev.ferry.migration.FileDestination;
import dev.ferry.migration.IncomingRequest;
import dev.ferry.migration.MigrationCoordinator;
import dev.ferry.migration.MigrationException;
import dev.ferry.migration.MigrationListener;
import dev.ferry.migration.MigrationParams;
import dev.ferry.migration.MigrationPlan;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.Phase;
import dev.ferry.migration.QmpSourceQemu;
import dev.ferry.migration.RamProgress;
import dev.ferry.migration.Result;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Migrations and saves this host drives as the source: each runs on its own thread under the
 * VM's lease, and its report goes into the history when it ends.
 */
final class SourceMigrations {
    private static final Logger log = LoggerFactory.getLogger(SourceMigrations.class);

    /** How long the source keeps asking an unreachable destination whether it took the VM. */
    private static final Duration SWITCHOVER_PATIENCE = Duration.ofMinutes(5);

    private final AgentConfig config;
    private final VmTable vms;
    private final JobLeases leases;
    private final SpecReader specs;
    private final DeviceControllers devices;
    private final DiskImages images;
    private final Clock clock;
    private final ObjectMapper json;
    private final ExecutorService workers;
    private final ExecutorService stepExecutor;
    private final Map<String, Live> live = new ConcurrentHashMap<>();

    /** A migration that is running now. */
    private static final class Live implements MigrationListener {
        final String id;
        final String vm;
        final String peer;
        final Mode mode;
        final Instant startedAt;
        final Cancellation cancel = new Cancellation();
        volatile Phase phase = Phase.CHECK;
        volatile RamProgress ram;
        final Map<String, Double> devices = new ConcurrentHashMap<>();

        Live(String id, String vm, String peer, Mode mode, Instant startedAt) {
            this.id = id;
            this.vm = vm;
            this.peer = peer;
            this.mode = mode;
            this.startedAt = startedAt;
        }

        @Override
        public void phase(String migrationId, Phase next) {
            phase = next;
            log.info("migration {} of vm '{}': {}", migrationId, vm, next.wireName());
        }

        @Override
        public void ram(String migrationId, RamProgress progress) {
            ram = progress;
        }

        @Override
        public void device(String migrationId, DeviceEvent event) {
            if (event.fraction() != null) {
                devices.put(event.device().id(), event.fraction());
            }
        }

        MigrationStatus status() {
            return new MigrationStatus(id, vm, "source", peer, mode.wireName(), phase.wireName(), true, ram, devices,
                    startedAt, null);
        }
    }

    SourceMigrations(AgentConfig config, VmTable vms, JobLeases leases, SpecReader specs, DeviceControllers devices,
                     DiskImages images, Clock clock, ObjectMapper json, ExecutorService workers,
                     ExecutorService stepExecutor) {
        this.images = images;
        this.config = config;
        this.vms = vms;
        this.leases = leases;
        this.specs = specs;
        this.devices = devices;
        this.clock = clock;
        this.json = json;
        this.workers = workers;
        this.stepExecutor = stepExecutor;
    }

    /** Starts a live migration (answering at once), or runs a dry run to its end. */
    MigrationStatus migrate(MigrateRequest r) {
        require(r.vm(), "vm", "name the VM to migrate");
        require(r.to(), "to", "name the destination host (a peer in the agent's config) or give its agent URL");
        URI peer = peerUrl(r.to());
        MigrationParams params = params(r);
        VmSpec spec = spec(vms.record(r.vm()));
        String id = newId();
        IncomingRequest incoming = new IncomingRequest(id, config.host(), spec.toYaml(), Mode.LIVE.wireName(),
                localDisks(spec));
        if (Boolean.TRUE.equals(r.dryRun())) {
            Destination dest = new PeerClient(r.to(), peer, incoming, json, clock, Duration.ZERO);
            MigrationReport report = dryRun(plan(id, spec, Mode.LIVE, r.to(), params, GuestControl.NONE), dest);
            return finished(id, spec.name(), r.to(), Mode.LIVE, report, false);
        }
        JobLeases.Lease lease = leases.acquire(r.vm(), "migration to " + r.to());
        try {
            VmHandle handle = movable(r.vm());
            Destination dest = new PeerClient(r.to(), peer, incoming, json, clock, SWITCHOVER_PATIENCE);
            return launch(id, spec, handle, Mode.LIVE, r.to(), params, dest, lease, VmState.RUNNING);
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    /** Starts saving the VM into a file; the VM ends stopped, its definition kept. */
    MigrationStatus save(String vm, SaveRequest r) {
        require(r.file(), "file", "give the absolute path of the file to save into");
        Path file = Path.of(r.file());
        if (!file.isAbsolute()) {
            throw new AgentException(AgentException.Kind.INVALID, "file: '" + r.file() + "' is not an absolute path");
        }
        VmSpec spec = spec(vms.record(vm));
        JobLeases.Lease lease = leases.acquire(vm, "save to " + file);
        try {
            VmHandle handle = movable(vm);
            Destination dest = new FileDestination(file, vm, spec.uuid().toString(), spec.toYaml(),
                    spec.memoryMiB() * 1024L * 1024L, clock);
            return launch(newId(), spec, handle, Mode.SAVE, file.toString(), MigrationParams.defaults(), dest, lease,
                    VmState.STOPPED);
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    private MigrationStatus launch(String id, VmSpec spec, VmHandle handle, Mode mode, String peer,
                                   MigrationParams params, Destination dest, JobLeases.Lease lease, VmState onSuccess) {
        Live run = new Live(id, spec.name(), peer, mode, clock.instant());
        MigrationPlan plan = plan(id, spec, mode, peer, params, new QmpGuestControl(handle.qmp()));
        QmpSourceQemu source = new QmpSourceQemu(spec.name(), handle.qmp(), clock,
                () -> release(handle, keptSerialLog(config, spec.name(), id)));
        vms.store().saveMigration(new MigrationRecord(id, spec.name(), JournalEntry.Role.SOURCE, peer, mode.wireName(),
                null, null, run.startedAt, run.startedAt));
        vms.move(spec.name(), VmState.MIGRATING);
        live.put(id, run);
        workers.submit(() -> {
            try (lease) {
                MigrationReport report = new MigrationCoordinator(clock, stepExecutor,
                        new StoreJournal(vms.store(), spec.name(), JournalEntry.Role.SOURCE, peer, clock))
                        .migrate(plan, source, dest, run, run.cancel);
                settle(spec.name(), handle, report, onSuccess);
                finished(id, spec.name(), peer, mode, report, true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                log.warn("migration {} of vm '{}' interrupted (the agent is stopping); its journal says where it stood",
                        id, spec.name());
            } catch (RuntimeException e) {
                log.error("migration {} of vm '{}' failed unexpectedly", id, spec.name(), e);
            } finally {
                live.remove(id);
            }
        });
        return run.status();
    }

    /** Records where the VM is after the migration, as the report says. */
    private void settle(String vm, VmHandle handle, MigrationReport report, VmState onSuccess) {
        if (report.result() == Result.COMPLETED) {
            vms.detach(vm);
            if (onSuccess == VmState.STOPPED) {
                vms.move(vm, VmState.STOPPED);
            } else {
                vms.removed(vms.record(vm));
            }
            return;
        }
        // Only a destination that never answered leaves the owner unknown; one that said "not taken"
        // leaves the VM here even when the rollback itself failed.
        boolean ownerUnknown = report.result() == Result.FAILED && report.failure() != null
                && MigrationCoordinator.OWNER_UNKNOWN.equals(report.failure().step());
        if (ownerUnknown) {
            log.error("vm '{}': left paused and recorded as migrating until the destination answers", vm);
            return;
        }
        VmState now;
        try {
            now = handle.isAlive() ? handle.state() : VmState.CRASHED;
        } catch (VmException e) {
            now = VmState.CRASHED;
        }
        vms.move(vm, now == VmState.PAUSED ? VmState.PAUSED : now == VmState.RUNNING ? VmState.RUNNING : VmState.CRASHED);
    }

    /** The status of an ended migration; {@code keep} puts it into the history (dry runs stay out). */
    private MigrationStatus finished(String id, String vm, String peer, Mode mode, MigrationReport report, boolean keep) {
        String reportJson;
        try {
            reportJson = json.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Invalid report of migration " + id, e);
        }
        if (keep) {
            vms.store().saveMigration(new MigrationRecord(id, vm, JournalEntry.Role.SOURCE, peer, mode.wireName(),
                    report.result().wireName(), reportJson, report.startedAt(), clock.instant()));
        }
        return new MigrationStatus(id, vm, "source", peer, mode.wireName(), report.result().wireName(), false,
                report.ram(), Map.of(), report.startedAt(), report);
    }

    List<MigrationStatus> list() {
        List<MigrationStatus> out = new ArrayList<>();
        for (MigrationRecord m : vms.store().listMigrations()) {
            Live run = live.get(m.id());
            out.add(run != null ? run.status() : status(m));
        }
        return out;
    }

    MigrationStatus show(String id) {
        Live run = live.get(id);
        if (run != null) {
            return run.status();
        }
        return status(vms.store().findMigration(id).orElseThrow(() -> new AgentException(AgentException.Kind.NOT_FOUND,
                "migration '" + id + "' not found; 'ferry migration list' shows the known ones")));
    }

    /** Asks a running migration to stop; it rolls back at its next phase boundary. */
    MigrationStatus cancel(String id) {
        Live run = live.get(id);
        if (run == null) {
            MigrationStatus done = show(id);
            throw new AgentException(AgentException.Kind.CONFLICT, "migration '" + id + "' already ended: " + done.phase());
        }
        if (run.phase.pastPointOfNoReturn()) {
            throw new AgentException(AgentException.Kind.CONFLICT, "migration '" + id + "' is past switchover; the VM"
                    + " belongs to the destination now and the migration can no longer be cancelled");
        }
        run.cancel.cancel("cancelled by the operator");
        return run.status();
    }

    private MigrationStatus status(MigrationRecord m) {
        MigrationReport report = null;
        if (m.reportJson() != null) {
            try {
                report = json.readValue(m.reportJson(), MigrationReport.class);
            } catch (JsonProcessingException e) {
                log.warn("migration {}: its stored report does not parse: {}", m.id(), e.getMessage());
            }
        }
        String phase = m.result() != null ? m.result() : "unknown";
        return new MigrationStatus(m.id(), m.vm(), m.role().name().toLowerCase(java.util.Locale.ROOT), m.peer(), m.mode(),
                phase, false, report == null ? null : report.ram(), Map.of(), m.startedAt(), report);
    }

    private MigrationReport dryRun(MigrationPlan plan, Destination dest) {
        try {
            return new MigrationCoordinator(clock, stepExecutor, dev.ferry.migration.Journal.NONE)
                    .dryRun(plan, dest, MigrationListener.NONE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.Kind.FAILED, "interrupted during the dry run", e);
        }
    }

    private MigrationPlan plan(String id, VmSpec spec, Mode mode, String destination, MigrationParams params,
                               GuestControl guest) {
        List<MigrationPlan.Unit> units = devices.bind(spec, guest).stream()
                .map(b -> new MigrationPlan.Unit(b.ref(), b.controller())).toList();
        return new MigrationPlan(id, spec.name(), spec.uuid().toString(), config.host(), mode, destination, units, params);
    }

    /** The images of the disks a live migration copies (those not shared), as the destination needs to size them. */
    private Map<String, DiskImage> localDisks(VmSpec spec) {
        Map<String, DiskImage> out = new java.util.LinkedHashMap<>();
        for (DeviceSpec.Disk d : spec.devices(DeviceSpec.Disk.class)) {
            if (!d.shared() && !d.blockDevice()) {
                try {
                    out.put(d.id(), images.info(d.path()));
                } catch (DiskException e) {
                    throw new AgentException(AgentException.Kind.FAILED, "vm '" + spec.name() + "': disk '" + d.id()
                            + "': " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    /** The handle of a VM that can move now: running or paused, and under this agent's control. */
    private VmHandle movable(String vm) {
        VmState state = vms.record(vm).state();
        if (state != VmState.RUNNING && state != VmState.PAUSED) {
            throw new AgentException(AgentException.Kind.CONFLICT, "vm '" + vm + "' is " + state.wireName()
                    + "; only a running or paused VM can be migrated or saved (start it first)");
        }
        return vms.handle(vm).orElseThrow(() -> new AgentException(AgentException.Kind.FAILED, "vm '" + vm
                + "': the agent has no control of its QEMU process; restart the agent so it reattaches"));
    }

    /**
     * Where the source keeps the guest's serial log once the VM left: the run directory goes with
     * the VM, but what the guest printed here is evidence an operator (or a test) may want.
     */
    static Path keptSerialLog(AgentConfig config, String vm, String migrationId) {
        return config.dataDir().resolve("logs").resolve(vm + "." + migrationId + ".serial.log");
    }

    /** Copies the serial log of a VM that is leaving this host (its guest is stopped for good) to {@code keep}. */
    static void keepSerialLog(VmHandle handle, Path keep) {
        try {
            Files.createDirectories(keep.getParent());
            Files.copy(handle.serialLog(), keep, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            log.warn("vm '{}': cannot keep its serial log at {}: {}", handle.name(), keep, e.getMessage());
        }
    }

    private static void release(VmHandle handle, Path keep) throws MigrationException {
        keepSerialLog(handle, keep);
        try {
            handle.destroy();
        } catch (VmException e) {
            throw new MigrationException("quitting the source QEMU failed: " + e.getMessage(), e);
        }
    }

    private VmSpec spec(VmRecord vm) {
        try {
            return specs.read(vm.specYaml(), Path.of(vm.baseDir()));
        } catch (SpecException e) {
            throw new AgentException(AgentException.Kind.INVALID_SPEC, "vm '" + vm.name()
                    + "': its recorded spec no longer parses: " + e.getMessage(), e);
        }
    }

    private URI peerUrl(String to) {
        URI known = config.peers().get(to);
        if (known != null) {
            return known;
        }
        if (to.startsWith("http://") || to.startsWith("https://")) {
            return URI.create(to);
        }
        throw new AgentException(AgentException.Kind.INVALID, "to: unknown host '" + to + "'; known peers are "
                + config.peers().keySet() + " (add it under peers in the agent's config, or give its agent URL)");
    }

    private static MigrationParams params(MigrateRequest r) {
        MigrationParams d = MigrationParams.defaults();
        try {
            return new MigrationParams(
                    r.downtimeMs() == null ? d.downtimeLimit() : Duration.ofMillis(r.downtimeMs()),
                    r.bandwidthMiB() == null ? d.bandwidthMiBps() : r.bandwidthMiB(),
                    r.autoConverge() == null ? d.autoConverge() : r.autoConverge(),
                    r.convergeTimeoutSeconds() == null ? d.convergeTimeout() : Duration.ofSeconds(r.convergeTimeoutSeconds()),
                    r.stepDeadlineSeconds() == null ? d.stepDeadline() : Duration.ofSeconds(r.stepDeadlineSeconds()),
                    r.diskBandwidthMiB() == null ? d.diskBandwidthMiBps() : r.diskBandwidthMiB());
        } catch (IllegalArgumentException e) {
            throw new AgentException(AgentException.Kind.INVALID, e.getMessage(), e);
        }
    }

    private static void require(String value, String field, String fix) {
        if (value == null || value.isBlank()) {
            throw new AgentException(AgentException.Kind.INVALID, field + ": missing; " + fix);
        }
    }

    private static String newId() {
        return UUID.randomUUID().toString().substring(0, 8);
    }
}
