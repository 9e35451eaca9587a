package dev.ferry.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.DeviceException;
import dev.ferry.device.GuestControl;
import dev.ferry.device.Mode;
import dev.ferry.device.QmpGuestControl;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.device.disk.ImageStore;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.PeerProtocol.Ownership;
import dev.ferry.migration.PeerProtocol.Prepared;
import dev.ferry.migration.PeerProtocol.Switchover;
import dev.ferry.proc.Processes;
import dev.ferry.qmp.QmpException;
import dev.ferry.vm.PathRefusedException;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.QemuTls;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.SpecPaths;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination's side of live migrations, one {@link DestinationState} per migration:
 * check, prepare (journal first, then what each device's {@link dev.ferry.device.IncomingDevice}
 * makes, the incoming QEMU, and the devices' endpoints),
 * switchover (the stream received, ownership journaled and recorded, then resume, unless the
 * guest was paused on the source) and abort. Every call is idempotent, because the source
 * retries calls whose answer it did not get.
 */
public final class IncomingMigrations {
    private static final Logger log = LoggerFactory.getLogger(IncomingMigrations.class);

    private final VmHost runtime;
    private final HostVms vms;
    private final MigrationStore store;
    private final DeviceControllers controllers;
    private final String migrationAddress;
    private final Clock clock;
    private final ImageStore images;
    private final PathRoots roots;
    /** TLS on the incoming streams (migration and NBD); null when they are plain. */
    private final QemuTls streamTls;
    private final Map<String, Incoming> incoming = new ConcurrentHashMap<>();
    /** Migrations aborted before their prepare ran here: a prepare that arrives late must not start them. */
    private final RecentIds abortedUnprepared = new RecentIds(1000);

    /** One incoming migration; {@code done} is kept so a retried switchover gets the same answer. */
    private static final class Incoming {
        final String id;
        final VmSpec spec;
        final Journal journal;
        final boolean guestRunning;
        DestinationState state = DestinationState.PREPARING;
        List<DeviceControllers.Incoming> devices = List.of();
        VmHandle handle;
        Prepared prepared;
        Switchover done;

        Incoming(String id, VmSpec spec, Journal journal, boolean guestRunning) {
            this.id = id;
            this.spec = spec;
            this.journal = journal;
            this.guestRunning = guestRunning;
        }

        void go(DestinationState to) {
            state = state.go(id, spec.name(), to);
        }
    }

    /**
     * @param runtime          starts the incoming QEMU
     * @param migrationAddress the address this host's QEMU and NBD exports listen on
     * @param imagesRoot       where copies of local disks go, one directory per VM
     * @param roots            the directories whose files VMs may use here; every path of an incoming VM must be inside
     */
    public IncomingMigrations(VmHost runtime, HostVms vms, MigrationStore store, DeviceControllers controllers,
                              String migrationAddress, Clock clock, DiskImages images, Path imagesRoot,
                              PathRoots roots) {
        this(runtime, vms, store, controllers, migrationAddress, clock, images, imagesRoot, roots, null);
    }

    /**
     * @param streamTls this host's certificates for the incoming QEMUs' streams: the migration stream and the NBD
     *                  exports then take only TLS from the source host that asked; null for plain streams
     */
    public IncomingMigrations(VmHost runtime, HostVms vms, MigrationStore store, DeviceControllers controllers,
                              String migrationAddress, Clock clock, DiskImages images, Path imagesRoot,
                              PathRoots roots, QemuTls streamTls) {
        this.streamTls = streamTls;
        this.roots = roots;
        this.runtime = runtime;
        this.vms = vms;
        this.store = store;
        this.controllers = controllers;
        this.migrationAddress = migrationAddress;
        this.clock = clock;
        this.images = new ImageStore(images, imagesRoot, migrationAddress, streamTls != null);
    }

    static String versionMismatch(int sourceVersion) {
        String source = sourceVersion == 0 ? "the source sent no peer protocol version (it runs an older Ferry)"
                : "the source speaks peer protocol version " + sourceVersion;
        return source + " and this host speaks version " + PeerProtocol.VERSION
                + "; run the same Ferry version on both hosts";
    }

    /** Everything that would stop the VM from running here; an empty list means go. */
    public List<Blocker> check(PeerProtocol.Request req) {
        List<Blocker> blockers = new ArrayList<>();
        if (req.protocol() != PeerProtocol.VERSION) {
            blockers.add(new Blocker("destination", null, versionMismatch(req.protocol())));
            return blockers;
        }
        VmSpec source;
        try {
            source = IncomingSpec.fromSource(req);
        } catch (SpecException e) {
            blockers.add(new Blocker("destination", deviceOf(e.field()), e.getMessage()));
            return blockers;
        }
        if (vms.defined(source.name()) && vms.spec(source.name()).uuid().equals(source.uuid())) {
            blockers.add(new Blocker("destination", null, sameVmHere(source, req.sourceHost())));
            return blockers;
        }
        List<DeviceControllers.Incoming> devices = controllers.bindIncoming(source, req.localDisks(), images);
        VmSpec placed = IncomingSpec.placed(source, devices);
        try {
            SpecPaths.check(placed, roots);
        } catch (PathRefusedException e) {
            blockers.add(new Blocker("destination", deviceOf(e.field()), e.getMessage()));
        }
        vms.admissionBlockers(placed).forEach(b -> blockers.add(new Blocker("destination", null, b)));
        for (DeviceControllers.Incoming d : devices) {
            d.device().check().forEach(why -> blockers.add(new Blocker("destination", d.ref().describe(), why)));
        }
        return blockers;
    }

    /** Why the very VM (same name and uuid) cannot come here: this is its own host, or a copy is defined here. */
    private String sameVmHere(VmSpec spec, String sourceHost) {
        String vm = "vm '" + spec.name() + "' (uuid " + spec.uuid() + ")";
        if (vms.state(spec.name()) == VmState.MIGRATING) {
            return vm + " is migrating away from this host: the destination is the VM's own host ('" + sourceHost
                    + "'); migrate it to another host";
        }
        return vm + " is already defined on this host (" + vms.state(spec.name()).wireName() + "), so a copy from '"
                + sourceHost + "' would make two of it; migrate it elsewhere, or undefine the one here first";
    }

    /**
     * Journals the migration, then has every device make what QEMU must open (a disk's copy),
     * starts the incoming QEMU and opens the devices' endpoints (a disk's NBD export, or the path
     * a disk tool fills); returns where to send. A restart anywhere in here finds the journal and tears
     * down whatever was made.
     */
    public Prepared prepare(PeerProtocol.Request req) throws MigrationException {
        return prepare(req, null);
    }

    /**
     * {@link #prepare(PeerProtocol.Request)} for a source that proved who it is: {@code sourceSubject} is the subject
     * of its host certificate, from the peer call's TLS. With TLS on the streams, the incoming QEMU accepts the
     * migration stream and the NBD copies only from that subject; without it (null) there is no one to let in.
     */
    public synchronized Prepared prepare(PeerProtocol.Request req, String sourceSubject) throws MigrationException {
        if (streamTls != null && sourceSubject == null) {
            throw new MigrationException("migration " + req.migrationId() + ": this host takes QEMU streams over TLS"
                    + " only, and the source ('" + req.sourceHost() + "') called without a host certificate; give both"
                    + " agents tls: {dir: ...}");
        }
        Incoming existing = incoming.get(req.migrationId());
        if (existing != null && existing.state == DestinationState.PREPARED) {
            return existing.prepared;
        }
        // Anything else this host knows of the migration (taken, or ended before a restart) must not be started over:
        // a second PREPARE would overwrite its history and start another QEMU for it.
        String known = existing != null ? existing.state.wireName() : store.findMigration(req.migrationId())
                .filter(m -> m.role() == Role.DESTINATION)
                .map(m -> m.result() == null ? "being settled" : m.result().wireName()).orElse(null);
        if (known != null) {
            throw new MigrationException("migration " + req.migrationId() + " is already " + known
                    + " on this host; it cannot be prepared again");
        }
        if (abortedUnprepared.contains(req.migrationId())) {
            throw new MigrationException("migration " + req.migrationId() + " was aborted by its source before this"
                    + " host got to prepare it (the source gave up waiting); nothing was started");
        }
        if (req.protocol() != PeerProtocol.VERSION) {
            throw new MigrationException(versionMismatch(req.protocol()));
        }
        VmSpec source = parsedSourceSpec(req);
        List<DeviceControllers.Incoming> devices = controllers.bindIncoming(source, req.localDisks(), images);
        VmSpec spec = IncomingSpec.placed(source, devices);
        try {
            SpecPaths.check(spec, roots);
        } catch (PathRefusedException e) {
            throw new MigrationException("vm '" + spec.name() + "': " + e.getMessage(), e);
        }
        Instant now = clock.instant();
        store.saveMigration(new MigrationRecord(req.migrationId(), spec.name(), Role.DESTINATION, req.sourceHost(),
                Mode.LIVE, null, null, now, now));
        Journal journal = new Journal(store, req.migrationId(), spec.name(), Role.DESTINATION, req.sourceHost(), clock);
        journal.enterPrepare(req.guestRunning(), "incoming from " + req.sourceHost()
                + (req.guestRunning() ? "" : "; the guest is paused and stays paused"));
        Incoming in = new Incoming(req.migrationId(), spec, journal, req.guestRunning());
        in.devices = devices;
        incoming.put(req.migrationId(), in);
        try {
            for (DeviceControllers.Incoming d : devices) {
                d.device().prepare();
            }
            // QEMU gets the paths as they resolve now that the copies exist, not as the spec spells them.
            in.handle = runtime.startIncoming(SpecPaths.confine(spec, roots));
            in.handle.qmp().execute("migrate-set-capabilities", Map.of("capabilities",
                    List.of(Map.of("capability", "events", "state", true))), Duration.ofSeconds(10));
            if (streamTls != null) {
                // Before anything listens: the stream and the exports exist only with TLS, for this source only.
                streamTls.addServer(in.handle.qmp(), sourceSubject);
                in.handle.qmp().execute("migrate-set-parameters", Map.of("tls-creds", QemuTls.CREDS,
                        "tls-authz", QemuTls.AUTHZ), Duration.ofSeconds(10));
            }
            in.handle.qmp().execute("migrate-incoming", Map.of("uri", "tcp:" + migrationAddress + ":0"),
                    Duration.ofSeconds(10));
            in.prepared = new Prepared(listeningUri(in.handle), endpoints(devices, new QmpGuestControl(in.handle.qmp())),
                    in.handle.pid());
            in.go(DestinationState.PREPARED);
            return in.prepared;
        } catch (VmException | QmpException | DeviceException | PathRefusedException | RuntimeException e) {
            List<String> problems = tearDown(in);
            in.go(DestinationState.ABORTED);
            incoming.remove(req.migrationId());
            journal.enter(Phase.ROLLING_BACK, "prepare failed: " + DeviceSteps.message(e));
            end(in, problems.isEmpty() ? Result.ROLLED_BACK : Result.FAILED, String.join("; ", problems));
            throw new MigrationException("vm '" + spec.name() + "': preparing the incoming QEMU failed: "
                    + DeviceSteps.message(e), e);
        }
    }

    /**
     * Waits until QEMU received everything, journals and records ownership, then resumes the
     * guest (unless it was paused on the source) and runs the devices' after-resume hooks.
     * Throws {@link Destination.NotTakenException} when the VM was not taken.
     */
    public Switchover switchover(String migrationId, Duration limit) throws MigrationException {
        Incoming in = incoming.get(migrationId);
        if (in == null) {
            if (ownership(migrationId) == Ownership.OWNED) {
                // Taken before this agent restarted; the source asks again because it missed the answer.
                return new Switchover(true, List.of("the destination had taken the VM before it restarted"));
            }
            throw new Destination.NotTakenException("no incoming migration " + migrationId + " on this host");
        }
        synchronized (in) {
            if (in.done != null) {
                return in.done;
            }
            if (in.state == DestinationState.PREPARED) {
                IncomingStream.awaitReceived(in.handle, limit);
                IncomingStream.checkStateOnDisk(in.spec, in.handle);
                for (DeviceControllers.Incoming d : in.devices) {
                    try {
                        d.device().beforeOwnership();
                    } catch (DeviceException e) {
                        throw new Destination.NotTakenException(d.ref().describe() + ": " + e.getMessage());
                    }
                }
                try {
                    in.journal.enter(Phase.SWITCHOVER, "ownership recorded");
                } catch (RuntimeException e) {
                    // Not written, so not taken (a full disk, say): the source keeps the VM and aborts here.
                    throw new Destination.NotTakenException("cannot record that this host takes the VM: "
                            + e.getMessage());
                }
                vms.add(in.spec, VmState.MIGRATING);
                vms.attach(in.handle);
                in.go(DestinationState.OWNED);
                log.info("vm '{}' now belongs to this host (migration {})", in.spec.name(), migrationId);
            }
            if (!in.state.owned()) {
                throw new Destination.NotTakenException("incoming migration " + migrationId + " is "
                        + in.state.wireName());
            }
            in.done = finishOwned(in);
            return in.done;
        }
    }

    /** Resumes the owned guest if it ran on the source; the VM's state and the migration's end follow. */
    private Switchover finishOwned(Incoming in) throws MigrationException {
        if (!in.guestRunning) {
            vms.move(in.spec.name(), VmState.PAUSED);
            in.go(DestinationState.RESUMED);
            end(in, Result.COMPLETED, "the guest was paused on the source and stays paused here");
            return new Switchover(false, afterResume(in));
        }
        try {
            in.handle.resume();
        } catch (VmException e) {
            if (in.state == DestinationState.OWNED) {
                in.go(DestinationState.OWNED_NOT_RUNNING);
                vms.move(in.spec.name(), VmState.PAUSED);
            }
            throw new MigrationException("vm '" + in.spec.name() + "' is owned here but did not resume: "
                    + e.getMessage() + "; resume it here ('ferry vm resume " + in.spec.name() + "')", e);
        }
        VmState now = vms.state(in.spec.name());
        if (now != VmState.RUNNING) {
            vms.move(in.spec.name(), VmState.RUNNING);
        }
        in.go(DestinationState.RESUMED);
        List<String> notes = afterResume(in);
        end(in, Result.COMPLETED, String.join("; ", notes));
        return new Switchover(true, notes);
    }

    /** What this host knows of {@code migrationId}: in memory while it runs, else from its history. */
    public Ownership ownership(String migrationId) {
        Incoming in = incoming.get(migrationId);
        if (in != null) {
            synchronized (in) {
                return in.state.owned() ? Ownership.OWNED
                        : in.state == DestinationState.ABORTED ? Ownership.ABORTED : Ownership.PREPARED;
            }
        }
        return OwnershipHistory.recorded(store, vms, migrationId);
    }

    /**
     * {@link #abort(String)}; an abort of a migration unknown here is remembered (ended ROLLED_BACK), so that its
     * prepare, arriving late, is refused instead of starting a VM nobody ends (found by {@code model/ferry.pml}).
     */
    public void abort(PeerProtocol.Request req) throws MigrationException {
        // Under prepare's lock: a prepare of this migration runs wholly before this or is refused after it.
        synchronized (this) {
            if (incoming.get(req.migrationId()) == null && store.findMigration(req.migrationId()).isEmpty()) {
                String vm;
                try {
                    vm = IncomingSpec.fromSource(req).name();
                } catch (SpecException e) {
                    return; // a prepare of this spec is refused here anyway
                }
                Instant now = clock.instant();
                store.saveMigration(new MigrationRecord(req.migrationId(), vm, Role.DESTINATION, req.sourceHost(),
                        Mode.LIVE, Result.ROLLED_BACK, null, now, now));
                new Journal(store, req.migrationId(), vm, Role.DESTINATION, req.sourceHost(), clock)
                        .enter(Phase.ROLLED_BACK, "aborted by the source before this host prepared it");
                return;
            }
        }
        abort(req.migrationId());
    }

    /** Destroys the incoming VM and its backends, if any; refuses once the VM is owned here, even before a restart. */
    public synchronized void abort(String migrationId) throws MigrationException {
        // Synchronized with prepare: an abort that arrives during a prepare (a source that gave up waiting
        // for it) tears down what that prepare made once it is done, instead of racing it.
        Incoming in = incoming.get(migrationId);
        if (in == null) {
            if (OwnershipHistory.recorded(store, vms, migrationId) == Ownership.OWNED) {
                throw new MigrationException("migration " + migrationId + ": the VM already belongs to this host");
            }
            abortedUnprepared.remember(migrationId);
            return;
        }
        synchronized (in) {
            if (in.state.owned()) {
                throw new MigrationException("migration " + migrationId + ": the VM already belongs to this host");
            }
            if (in.state == DestinationState.ABORTED) {
                return;
            }
            try {
                in.journal.enter(Phase.ROLLING_BACK, "aborted by the source");
            } catch (RuntimeException e) {
                // Tearing down must not wait for the journal: what it removes, a restarted agent
                // removes too, because the journal still says prepare.
                log.error("migration {}: cannot journal the rollback ({}); tearing down regardless", migrationId,
                        e.getMessage());
            }
            List<String> problems = tearDown(in);
            in.go(DestinationState.ABORTED);
            incoming.remove(migrationId);
            end(in, problems.isEmpty() ? Result.ROLLED_BACK : Result.FAILED, String.join("; ", problems));
            if (!problems.isEmpty()) {
                throw new MigrationException("migration " + migrationId + ": " + String.join("; ", problems));
            }
        }
    }

    /** What the devices made undone (exports dropped, copies deleted), QEMU ended. Returns what could not be undone. */
    private static List<String> tearDown(Incoming in) {
        List<String> problems = new ArrayList<>();
        VmHandle handle = in.handle;
        for (int i = in.devices.size() - 1; i >= 0; i--) {
            DeviceControllers.Incoming d = in.devices.get(i);
            d.device().abort(() -> handle != null && handle.isAlive())
                    .forEach(p -> problems.add(d.ref().describe() + ": " + p));
        }
        if (handle != null) {
            destroyQuietly(handle);
        }
        return problems;
    }

    private void end(Incoming in, Result result, String detail) {
        in.journal.enter(result.finalPhase(), detail);
        store.findMigration(in.id).ifPresent(m -> store.saveMigration(m.ended(result, null, clock.instant())));
    }

    private List<String> afterResume(Incoming in) {
        List<String> notes = new ArrayList<>();
        QmpGuestControl guest = new QmpGuestControl(in.handle.qmp());
        for (DeviceControllers.Bound b : controllers.bind(in.spec, guest)) {
            DeviceContext ctx = new DeviceContext(in.spec.name(), in.spec.uuid().toString(), b.ref(), Mode.LIVE,
                    migrationAddress, e -> {});
            try {
                b.controller().afterResume(ctx);
            } catch (DeviceException | RuntimeException e) {
                in.journal.device(b.ref().id(), JournalStep.AFTER_RESUME, JournalEvent.FAILED, e.getMessage());
                notes.add(b.ref().describe() + " after resume: " + e.getMessage());
            }
        }
        return notes;
    }

    private static String listeningUri(VmHandle handle) throws QmpException {
        JsonNode addresses = handle.qmp().execute("query-migrate").path("socket-address");
        for (JsonNode a : addresses) {
            if (a.path("type").asText().equals("inet")) {
                return "tcp:" + a.path("host").asText() + ":" + a.path("port").asText();
            }
        }
        throw new IllegalStateException("QEMU reported no listening address: " + addresses);
    }

    /** Every device's endpoint, by device id; devices without one are left out. */
    private static Map<String, String> endpoints(List<DeviceControllers.Incoming> devices, GuestControl qemu)
            throws DeviceException {
        Map<String, String> endpoints = new LinkedHashMap<>();
        for (DeviceControllers.Incoming d : devices) {
            String endpoint = d.device().open(qemu);
            if (endpoint != null) {
                endpoints.put(d.ref().id(), endpoint);
            }
        }
        return endpoints;
    }

    private VmSpec parsedSourceSpec(PeerProtocol.Request req) throws MigrationException {
        try {
            return IncomingSpec.fromSource(req);
        } catch (SpecException e) {
            throw new MigrationException("the VM's spec is not valid on this host: " + e.getMessage(), e);
        }
    }

    private static String deviceOf(String field) {
        return field.startsWith("devices[") ? field.substring(0, field.indexOf(']') + 1) : null;
    }

    static void destroyQuietly(VmHandle handle) {
        try {
            if (Processes.isStopped(handle.pid())) {
                // A stopped QEMU (SIGSTOP) cannot answer quit; SIGKILL ends it even stopped, without the wait.
                log.warn("incoming vm '{}': its QEMU (pid {}) is stopped; killing it", handle.name(), handle.pid());
                Processes.kill(handle.pid());
            }
            handle.destroy();
        } catch (VmException | RuntimeException e) {
            log.warn("could not destroy incoming vm '{}': {}", handle.name(), e.getMessage());
        }
    }
}
