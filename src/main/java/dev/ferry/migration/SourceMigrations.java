package dev.ferry.migration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.DeviceEvent;
import dev.ferry.device.GuestControl;
import dev.ferry.device.Mode;
import dev.ferry.device.QmpGuestControl;
import dev.ferry.device.disk.DiskException;
import dev.ferry.device.disk.DiskImage;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.migration.MigrationReport.Failure;
import dev.ferry.migration.RequestException.Kind;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.PathRefusedException;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.QemuTls;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Migrations and saves this host drives as the source: each is journaled and recorded in the
 * history before it starts, runs on its own thread under the VM's lease, and its report goes into
 * the history when it ends. What happens in between is the {@link MigrationCoordinator}'s.
 */
public final class SourceMigrations {
    private static final Logger log = LoggerFactory.getLogger(SourceMigrations.class);

    /** How long the source keeps asking an unreachable destination whether it took the VM. */
    private static final Duration SWITCHOVER_PATIENCE = Duration.ofMinutes(5);

    private final String host;
    private final HostVms vms;
    private final SourceSettlement settlement;
    private final MigrationStore store;
    private final Peers peers;
    private final DeviceControllers devices;
    private final DiskImages images;
    private final Path keptLogs;
    private final Clock clock;
    private final ObjectMapper json;
    private final ExecutorService workers;
    private final MigrationCoordinator coordinator;
    private final SourceRecovery recovery;
    private final PathRoots roots;
    /** This host's certificates for the outgoing QEMU streams; null when they are plain. */
    private final QemuTls streamTls;
    private final Map<String, Live> live = new ConcurrentHashMap<>();

    /** A migration that is running now. */
    private static final class Live implements MigrationListener {
        final String id;
        final String vm;
        final String peer;
        final Mode mode;
        final Instant startedAt;
        final Cancellation cancel = new Cancellation();
        /** The source QEMU's stream, for changes while it runs; null for a dry run. */
        volatile QmpSourceQemu source;
        volatile Phase phase = Phase.CHECK;
        volatile RamProgress ram;
        final Map<String, Double> devices = new ConcurrentHashMap<>();
        final ToolOutput.Collector tools = new ToolOutput.Collector();

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
            if (event.toolCall() != null) {
                tools.add(event.toolCall());
            }
        }

        MigrationStatus status() {
            return new MigrationStatus(id, vm, Role.SOURCE.wireName(), peer, mode.wireName(), phase.wireName(), true,
                    ram, devices, startedAt, null);
        }
    }

    /**
     * @param keptLogs where the serial logs of VMs that left this host are kept
     * @param workers  runs each migration; {@code steps} runs device steps concurrently
     * @param roots    where save files may be written
     */
    public SourceMigrations(String host, HostVms vms, MigrationStore store, Peers peers, DeviceControllers devices,
                            DiskImages images, Path keptLogs, Clock clock, ObjectMapper json, ExecutorService workers,
                            ExecutorService steps, SourceRecovery recovery, PathRoots roots) {
        this(host, vms, store, peers, devices, images, keptLogs, clock, json, workers, steps, recovery, roots, null);
    }

    /** @param streamTls this host's certificates: live migrations send QEMU's streams over TLS; null for plain */
    public SourceMigrations(String host, HostVms vms, MigrationStore store, Peers peers, DeviceControllers devices,
                            DiskImages images, Path keptLogs, Clock clock, ObjectMapper json, ExecutorService workers,
                            ExecutorService steps, SourceRecovery recovery, PathRoots roots, QemuTls streamTls) {
        this.streamTls = streamTls;
        this.recovery = recovery;
        this.roots = roots;
        this.host = host;
        this.vms = vms;
        this.settlement = new SourceSettlement(vms);
        this.store = store;
        this.peers = peers;
        this.devices = devices;
        this.images = images;
        this.keptLogs = keptLogs;
        this.clock = clock;
        this.json = json;
        this.workers = workers;
        this.coordinator = new MigrationCoordinator(clock, steps);
    }

    /** Starts a live migration of {@code vm} to {@code to} (answering at once), or runs a dry run to its end. */
    public MigrationStatus migrate(String vm, String to, MigrationParams params, boolean dryRun) {
        require(vm, "vm", "name the VM to migrate");
        require(to, "to", "name the destination host (a peer in the agent's config) or give its agent URL");
        if (to.equals(host)) {
            throw new RequestException(Kind.INVALID, "to: '" + to + "' is this host, where vm '" + vm
                    + "' is now; migrate it to another host");
        }
        peers.resolve(to);
        VmSpec spec = vms.spec(vm);
        String id = newId();
        if (dryRun) {
            PeerProtocol.Request request = request(id, spec, true);
            Destination dest = peers.client(to, request, Duration.ZERO, params);
            MigrationReport report = dryRun(plan(id, spec, Mode.LIVE, to, params, GuestControl.NONE), dest);
            return finished(id, spec.name(), to, Mode.LIVE, report);
        }
        HostVms.Lease lease = vms.lease(vm, "migration " + id + " to " + to);
        try {
            VmHandle handle = movable(vm);
            PeerProtocol.Request request = request(id, spec, vms.state(vm) == VmState.RUNNING);
            Destination dest = peers.client(to, request, SWITCHOVER_PATIENCE, params);
            return launch(id, spec, handle, Mode.LIVE, to, params, dest, lease, VmState.RUNNING);
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    /** Starts saving the VM into a file; the VM ends stopped, its definition kept. */
    public MigrationStatus save(String vm, String file) {
        require(file, "file", "give the absolute path of the file to save into");
        Path given = Path.of(file);
        if (!given.isAbsolute()) {
            throw new RequestException(Kind.INVALID, "file: '" + file + "' is not an absolute path");
        }
        VmSpec spec = vms.spec(vm);
        Path path = saveTarget(given);
        String id = newId();
        HostVms.Lease lease = vms.lease(vm, "save " + id + " to " + path);
        try {
            VmHandle handle = movable(vm);
            Destination dest = new FileDestination(path, vm, spec.uuid().toString(), spec.toYaml(),
                    spec.memoryMiB() * 1024L * 1024L, clock);
            return launch(id, spec, handle, Mode.SAVE, path.toString(), MigrationParams.defaults(), dest, lease,
                    VmState.STOPPED);
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    /** Where the save goes: resolved inside a saves root, so that what is written is what was checked. */
    private Path saveTarget(Path given) {
        try {
            return roots.toCreate(PathRoots.Use.SAVE, "file", given);
        } catch (PathRefusedException e) {
            throw new RequestException(e.missing() ? Kind.INVALID : Kind.PATH_NOT_ALLOWED, e.getMessage(), e);
        }
    }

    private MigrationStatus launch(String id, VmSpec spec, VmHandle handle, Mode mode, String peer,
                                   MigrationParams params, Destination dest, HostVms.Lease lease, VmState onSuccess) {
        Live run = new Live(id, spec.name(), peer, mode, clock.instant());
        QemuTls.Peer tls = mode == Mode.LIVE ? streamTlsTo(peer) : null;
        MigrationPlan plan = plan(id, spec, mode, peer, params, new QmpGuestControl(handle.qmp()), tls);
        QmpSourceQemu source = new QmpSourceQemu(spec.name(), handle.qmp(), clock,
                () -> release(handle, keptSerialLog(keptLogs, spec.name(), id)), handle.pid(), handle.runDir())
                .withTls(tls == null ? null : streamTls, tls); // a save writes a local file: no TLS
        run.source = source;
        // The history row comes first: a restart finds the migration even if it dies before CHECK is journaled.
        store.saveMigration(new MigrationRecord(id, spec.name(), Role.SOURCE, peer, mode, null, null, run.startedAt,
                run.startedAt));
        vms.move(spec.name(), VmState.MIGRATING);
        live.put(id, run);
        Journal journal = new Journal(store, id, spec.name(), Role.SOURCE, peer, clock);
        workers.submit(() -> {
            MigrationReport report = null;
            try (lease) {
                report = coordinator.migrate(plan, source, dest, journal, run, run.cancel);
                settlement.settle(spec.name(), handle, report, onSuccess);
                MigrationRecord ended = record(id, spec.name(), peer, mode, run.startedAt, report);
                store.saveMigration(ended);
                if (report.ownerUnknown()) {
                    recovery.settleLater(ended);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                log.warn("migration {} of vm '{}' interrupted (the agent is stopping); its journal says where it stood",
                        id, spec.name());
            } catch (Throwable t) {
                // Whatever killed the worker (OutOfMemoryError, StackOverflowError, a listener's bug), the
                // migration still gets a final result, or its history row would never say how it ended.
                died(run, handle, journal, report, t);
            } finally {
                if (!run.tools.isEmpty()) {
                    run.tools.snapshot(id).write(ToolOutput.file(keptLogs, id), json);
                }
                live.remove(id);
            }
        });
        return run.status();
    }

    /**
     * Records a migration whose worker died of {@code cause}: with its report when it had one, else
     * failed in the phase it had reached, the VM recorded as its QEMU shows it.
     */
    private void died(Live run, VmHandle handle, Journal journal, MigrationReport report, Throwable cause) {
        log.error("migration {} of vm '{}' died in {}: {}; recording it as {}", run.id, run.vm, run.phase.wireName(),
                cause, report == null ? "failed" : report.result().wireName(), cause);
        MigrationReport ended = report;
        try {
            if (ended == null) {
                boolean left = !handle.isAlive() && run.phase.pastPointOfNoReturn();
                Failure failure = new Failure(run.phase.wireName(), null, null, "the migration's worker died: " + cause
                        + (left ? "; the guest had passed switchover and its QEMU here is gone, so it runs on "
                        + run.peer : ""));
                ended = new MigrationReport(run.id, run.vm, host, run.peer, run.mode.wireName(), Result.FAILED,
                        run.startedAt, Duration.between(run.startedAt, clock.instant()).toMillis(), null, null,
                        List.of(), List.of(), List.of(), failure, List.of(), run.ram, List.of(), false, false);
                journal.enter(Phase.FAILED, failure.describe());
                settleAfterDeath(run, handle);
            }
        } catch (Throwable t) {
            cause.addSuppressed(t);
            log.error("migration {} of vm '{}': recording its death failed too", run.id, run.vm, t);
        }
        try {
            store.saveMigration(record(run.id, run.vm, run.peer, run.mode, run.startedAt, ended));
        } catch (Throwable t) {
            log.error("migration {} of vm '{}': its report cannot be stored ({}); storing its result alone", run.id,
                    run.vm, t.toString());
            store.saveMigration(new MigrationRecord(run.id, run.vm, Role.SOURCE, run.peer, run.mode, ended.result(), null,
                    run.startedAt, clock.instant()));
        }
    }

    /** Where the VM is after a worker died mid-way: as its QEMU shows, gone if it had passed switchover. */
    private void settleAfterDeath(Live run, VmHandle handle) {
        if (!handle.isAlive() && run.phase.pastPointOfNoReturn()) {
            vms.forget(run.vm);
            return;
        }
        MigrationReport unknown = new MigrationReport(run.id, run.vm, host, run.peer, run.mode.wireName(), Result.FAILED,
                run.startedAt, 0, null, null, List.of(), List.of(), List.of(), null, List.of(), null, List.of(), false,
                false);
        settlement.settle(run.vm, handle, unknown, VmState.RUNNING);
    }

    private MigrationRecord record(String id, String vm, String peer, Mode mode, Instant startedAt,
                                   MigrationReport report) {
        return new MigrationRecord(id, vm, Role.SOURCE, peer, mode, report.result(), reportJson(json, report),
                startedAt, clock.instant());
    }

    /** The report as the history keeps it. */
    static String reportJson(ObjectMapper json, MigrationReport report) {
        try {
            return json.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Invalid report of migration " + report.id(), e);
        }
    }

    private static MigrationStatus finished(String id, String vm, String peer, Mode mode, MigrationReport report) {
        return new MigrationStatus(id, vm, Role.SOURCE.wireName(), peer, mode.wireName(), report.result().wireName(),
                false, report.ram(), Map.of(), report.startedAt(), report);
    }

    /** Every migration in this host's history, the running ones with their live phase. */
    public List<MigrationStatus> list() {
        List<MigrationStatus> out = new ArrayList<>();
        for (MigrationRecord m : store.listMigrations()) {
            Live run = live.get(m.id());
            out.add(run != null ? run.status() : status(m));
        }
        return out;
    }

    public MigrationStatus show(String id) {
        Live run = live.get(id);
        if (run != null) {
            return run.status();
        }
        return status(store.findMigration(id).orElseThrow(() -> new RequestException(Kind.NOT_FOUND,
                "migration '" + id + "' not found; 'ferry migration list' shows the known ones")));
    }

    /**
     * What the tools of migration {@code id} printed: while it runs, the calls so far; once it
     * ended, what was kept (no calls when no tool ran).
     */
    public ToolOutput toolOutput(String id) {
        Live run = live.get(id);
        if (run != null) {
            return run.tools.snapshot(id);
        }
        show(id);
        return ToolOutput.read(ToolOutput.file(keptLogs, id), json).orElse(new ToolOutput(id, List.of(), 0));
    }

    /** Asks a running migration to stop; it rolls back at once, or at its next phase boundary. */
    public MigrationStatus cancel(String id) {
        Live run = live.get(id);
        if (run == null) {
            MigrationStatus done = show(id);
            if (done.running()) {
                throw new RequestException(Kind.CONFLICT, "migration '" + id + "' is being settled from its journal"
                        + " (it stood at " + done.phase() + "); it ends on its own once the other host answers");
            }
            throw new RequestException(Kind.CONFLICT, "migration '" + id + "' already ended: " + done.phase());
        }
        if (run.phase.pastPointOfNoReturn()) {
            throw new RequestException(Kind.CONFLICT, "migration '" + id + "' is past switchover; the VM"
                    + " belongs to the destination now and the migration can no longer be cancelled");
        }
        run.cancel.cancel("cancelled by the operator");
        return run.status();
    }

    /**
     * Changes a running migration's RAM bandwidth cap (MiB/s, 0 for none) and downtime limit (ms);
     * null leaves one as it is. Refused once the guest is paused for the final copy: QEMU has taken
     * its decision by then.
     */
    public MigrationStatus tune(String id, Long bandwidthMiB, Long downtimeMs) {
        Live run = live.get(id);
        if (run == null) {
            throw new RequestException(Kind.CONFLICT, "migration '" + id + "' is not running: " + show(id).phase());
        }
        if (bandwidthMiB == null && downtimeMs == null) {
            throw new RequestException(Kind.INVALID, "nothing to change: give bandwidthMiB, downtimeMs or both");
        }
        if (bandwidthMiB != null && bandwidthMiB < 0) {
            throw new RequestException(Kind.INVALID, "bandwidthMiB must be 0 (no cap) or a positive MiB/s, was "
                    + bandwidthMiB);
        }
        if (downtimeMs != null && downtimeMs <= 0) {
            throw new RequestException(Kind.INVALID, "downtimeMs must be a positive number of milliseconds, was "
                    + downtimeMs);
        }
        if (run.source == null || run.phase.compareTo(Phase.RAM_COPY) > 0) {
            throw new RequestException(Kind.CONFLICT, "migration '" + id + "' is at " + run.phase.wireName()
                    + "; bandwidth and downtime can change only until the RAM copy ends");
        }
        try {
            run.source.tune(bandwidthMiB, downtimeMs == null ? null : Duration.ofMillis(downtimeMs));
        } catch (MigrationException e) {
            throw new RequestException(Kind.CONFLICT, "migration '" + id + "': QEMU did not take the change: "
                    + e.getMessage(), e);
        }
        log.info("migration {} of vm '{}': the operator set{}{}", id, run.vm,
                bandwidthMiB == null ? "" : " bandwidth " + (bandwidthMiB == 0 ? "uncapped" : bandwidthMiB + " MiB/s"),
                downtimeMs == null ? "" : " downtime limit " + downtimeMs + " ms");
        return run.status();
    }

    private MigrationStatus status(MigrationRecord m) {
        MigrationReport report = null;
        if (m.reportJson() != null) {
            try {
                report = json.readValue(m.reportJson(), MigrationReport.class);
            } catch (IOException e) {
                log.warn("migration {}: its stored report does not parse: {}", m.id(), e.getMessage());
            }
        }
        // A migration with no result and no live run has not ended: recovery (or the other side) is settling it.
        // It shows where its journal stands.
        boolean unsettled = m.result() == null;
        String phase = !unsettled ? m.result().wireName()
                : store.journal(m.id()).stream().reduce((a, b) -> b).map(e -> e.phase().wireName()).orElse("unknown");
        return new MigrationStatus(m.id(), m.vm(), m.role().wireName(), m.peer(), m.mode().wireName(), phase, unsettled,
                report == null ? null : report.ram(), Map.of(), m.startedAt(), report);
    }

    private MigrationReport dryRun(MigrationPlan plan, Destination dest) {
        try {
            return coordinator.dryRun(plan, dest, MigrationListener.NONE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RequestException(Kind.FAILED, "interrupted during the dry run", e);
        }
    }

    MigrationPlan plan(String id, VmSpec spec, Mode mode, String destination, MigrationParams params,
                       GuestControl guest) {
        return plan(id, spec, mode, destination, params, guest, null);
    }

    private MigrationPlan plan(String id, VmSpec spec, Mode mode, String destination, MigrationParams params,
                               GuestControl guest, QemuTls.Peer tls) {
        return new MigrationPlan(id, spec.name(), spec.uuid().toString(), host, mode, destination,
                MigrationPlan.units(devices, spec, guest), params, tls);
    }

    /**
     * How this host's QEMU reaches {@code peer}'s over TLS, or null when its streams are plain: the peer's
     * certificate must name the host of its agent URL, which this agent already checks on every peer call.
     */
    private QemuTls.Peer streamTlsTo(String peer) {
        if (streamTls == null) {
            return null;
        }
        String name = peers.resolve(peer).getHost();
        return new QemuTls.Peer(QemuTls.CREDS, name.startsWith("[") ? name.substring(1, name.length() - 1) : name);
    }

    private PeerProtocol.Request request(String id, VmSpec spec, boolean guestRunning) {
        return new PeerProtocol.Request(PeerProtocol.VERSION, id, host, spec.toYaml(), Mode.LIVE.wireName(),
                localDisks(spec), localBlockDevices(spec), guestRunning);
    }

    /** The host block devices not shared, which the destination must find at the same paths. */
    private static Map<String, Path> localBlockDevices(VmSpec spec) {
        Map<String, Path> out = new LinkedHashMap<>();
        for (DeviceSpec.Disk d : spec.devices(DeviceSpec.Disk.class)) {
            if (!d.shared() && d.blockDevice()) {
                out.put(d.id(), d.path());
            }
        }
        return out;
    }

    /** The images of the disks a live migration copies (those not shared), as the destination needs to size them. */
    private Map<String, DiskImage> localDisks(VmSpec spec) {
        Map<String, DiskImage> out = new LinkedHashMap<>();
        for (DeviceSpec.Disk d : spec.devices(DeviceSpec.Disk.class)) {
            if (!d.shared() && !d.blockDevice()) {
                try {
                    out.put(d.id(), images.info(d.path()));
                } catch (DiskException e) {
                    throw new RequestException(Kind.FAILED, "vm '" + spec.name() + "': disk '" + d.id() + "': "
                            + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    /** The handle of a VM that can move now: running or paused, and under this agent's control. */
    private VmHandle movable(String vm) {
        VmState state = vms.state(vm);
        if (state != VmState.RUNNING && state != VmState.PAUSED) {
            throw new RequestException(Kind.CONFLICT, "vm '" + vm + "' is " + state.wireName()
                    + "; only a running or paused VM can be migrated or saved (start it first)");
        }
        return vms.handle(vm).orElseThrow(() -> new RequestException(Kind.FAILED, "vm '" + vm
                + "': the agent has no control of its QEMU process; restart the agent so it reattaches"));
    }

    /**
     * Where the source keeps the guest's serial log once the VM left: the run directory goes with
     * the VM, but what the guest printed here is evidence an operator (or a test) may want.
     */
    public static Path keptSerialLog(Path keptLogs, String vm, String migrationId) {
        return keptLogs.resolve(vm + "." + migrationId + ".serial.log");
    }

    /** Copies the serial log of a VM that is leaving this host, then ends its QEMU here. */
    static void release(VmHandle handle, Path keep) throws MigrationException {
        try {
            Files.createDirectories(keep.getParent());
            Files.copy(handle.serialLog(), keep, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            log.warn("vm '{}': cannot keep its serial log at {}: {}", handle.name(), keep, e.getMessage());
        }
        try {
            handle.destroy();
        } catch (VmException e) {
            throw new MigrationException("quitting the source QEMU failed: " + e.getMessage(), e);
        }
    }

    private static void require(String value, String field, String fix) {
        if (value == null || value.isBlank()) {
            throw new RequestException(Kind.INVALID, field + ": missing; " + fix);
        }
    }

    private static String newId() {
        return UUID.randomUUID().toString().substring(0, 8);
    }
}
