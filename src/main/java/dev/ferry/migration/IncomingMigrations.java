package dev.ferry.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.DeviceException;
import dev.ferry.device.DiskImages;
import dev.ferry.device.GuestControl;
import dev.ferry.device.QmpGuestControl;
import dev.ferry.device.Mode;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.qmp.QmpException;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination's side of live migrations: checks, the incoming QEMU, the switchover (record
 * ownership, then resume) and the teardown. Every call is idempotent, because the source retries
 * calls whose answer it did not get.
 */
public final class IncomingMigrations {
    private static final Logger log = LoggerFactory.getLogger(IncomingMigrations.class);

    /** The agent's view of what this host owns; ownership is recorded before the guest resumes. */
    public interface Host {
        /** Blockers from the host itself: a VM of that name already here, not enough memory. */
        List<String> admissionBlockers(VmSpec spec);

        /** Durably records that this host now owns the VM, running in {@code handle}. */
        void takeOwnership(String migrationId, VmSpec spec, VmHandle handle) throws MigrationException;

        /** Whether this host took the VM of {@code migrationId} (before a restart, say): owned, not taken, or unknown. */
        Ownership ownership(String migrationId);
    }

    /** What this host knows of an incoming migration, for a source that lost track of it. */
    public enum Ownership {
        /** The VM belongs to this host. */
        OWNED,
        /** Prepared and not (yet) taken. */
        PREPARED,
        /** Given up: aborted, or torn down after a restart before it was taken. */
        ABORTED,
        /** This host never heard of the migration. */
        UNKNOWN
    }

    private final VmHost vms;
    private final Host host;
    private final Function<IncomingRequest, Journal> journals;
    private final DeviceControllers controllers;
    private final String migrationAddress;
    private final Clock clock;
    private final DiskImages images;
    private final Path imagesRoot;
    private final Map<String, Incoming> incoming = new ConcurrentHashMap<>();

    /** One prepared incoming VM; {@code done} is kept so a retried switchover gets the same answer. */
    private static final class Incoming {
        final VmSpec spec;
        final VmHandle handle;
        final Destination.Prepared prepared;
        final Journal journal;
        final IncomingDisks disks;
        boolean owned;
        Destination.Switchover done;

        Incoming(VmSpec spec, VmHandle handle, Destination.Prepared prepared, Journal journal, IncomingDisks disks) {
            this.spec = spec;
            this.handle = handle;
            this.prepared = prepared;
            this.journal = journal;
            this.disks = disks;
        }
    }

    /**
     * @param journals   the journal of each migration, made when it is prepared
     * @param imagesRoot where copies of local disks go, one directory per VM
     */
    public IncomingMigrations(VmHost vms, Host host, Function<IncomingRequest, Journal> journals,
                              DeviceControllers controllers, String migrationAddress, Clock clock,
                              DiskImages images, Path imagesRoot) {
        this.vms = vms;
        this.host = host;
        this.journals = journals;
        this.controllers = controllers;
        this.migrationAddress = migrationAddress;
        this.clock = clock;
        this.images = images;
        this.imagesRoot = imagesRoot;
    }

    /** Everything that would stop the VM from running here; an empty list means go. */
    public List<Blocker> check(IncomingRequest req) {
        List<Blocker> blockers = new ArrayList<>();
        LocalDisks.Planned plan;
        try {
            plan = LocalDisks.plan(req.spec(), imagesRoot);
        } catch (SpecException e) {
            blockers.add(new Blocker("destination", deviceOf(req, e.field()), e.getMessage()));
            return blockers;
        }
        host.admissionBlockers(plan.spec()).forEach(b -> blockers.add(new Blocker("destination", null, b)));
        blockers.addAll(IncomingDisks.check(images, plan, req.localDisks()));
        return blockers;
    }

    /** Creates the local disks' copies, starts the incoming QEMU and exports; returns where to send. */
    public synchronized Destination.Prepared prepare(IncomingRequest req) throws MigrationException {
        Incoming existing = incoming.get(req.migrationId());
        if (existing != null) {
            return existing.prepared;
        }
        LocalDisks.Planned plan = plan(req);
        VmSpec spec = plan.spec();
        Journal journal = journals.apply(req);
        journal.phase(req.migrationId(), Phase.PREPARE, "incoming from " + req.sourceHost());
        IncomingDisks disks = IncomingDisks.create(images, plan, req.localDisks());
        VmHandle handle;
        try {
            handle = vms.startIncoming(spec);
        } catch (VmException e) {
            disks.abort(() -> false);
            throw new MigrationException(e.getMessage(), e);
        }
        try {
            handle.qmp().execute("migrate-set-capabilities", Map.of("capabilities",
                    List.of(Map.of("capability", "events", "state", true))), Duration.ofSeconds(10));
            handle.qmp().execute("migrate-incoming", Map.of("uri", "tcp:" + migrationAddress + ":0"),
                    Duration.ofSeconds(10));
            Destination.Prepared prepared = new Destination.Prepared(listeningUri(handle),
                    disks.export(handle.qmp(), migrationAddress));
            incoming.put(req.migrationId(), new Incoming(spec, handle, prepared, journal, disks));
            return prepared;
        } catch (QmpException | MigrationException | RuntimeException e) {
            disks.abort(handle::isAlive);
            destroyQuietly(handle);
            throw new MigrationException("vm '" + spec.name() + "': the incoming QEMU would not listen: " + e.getMessage(), e);
        }
    }

    /**
     * Waits until QEMU received everything, records ownership, then resumes the guest and runs the
     * devices' after-resume hooks. Throws {@link Destination.NotTakenException} when the VM was not taken.
     */
    public Destination.Switchover switchover(String migrationId, Duration limit) throws MigrationException {
        Incoming in = incoming.get(migrationId);
        if (in == null) {
            if (host.ownership(migrationId) == Ownership.OWNED) {
                // Taken before this agent restarted; the source asks again because it missed the answer.
                return new Destination.Switchover(List.of("the destination had taken the VM before it restarted"));
            }
            throw new Destination.NotTakenException("no incoming migration " + migrationId + " on this host");
        }
        synchronized (in) {
            if (in.done != null) {
                return in.done;
            }
            if (!in.owned) {
                awaitReceived(in, limit);
                try {
                    in.disks.closeExports();
                } catch (MigrationException e) {
                    throw new Destination.NotTakenException(e.getMessage());
                }
                in.journal.phase(migrationId, Phase.SWITCHOVER, "ownership recorded");
                host.takeOwnership(migrationId, in.spec, in.handle);
                in.owned = true;
            }
            try {
                in.handle.resume();
            } catch (VmException e) {
                throw new MigrationException("vm '" + in.spec.name() + "' is owned here but did not resume: "
                        + e.getMessage(), e);
            }
            in.done = new Destination.Switchover(afterResume(migrationId, in));
            in.journal.phase(migrationId, Phase.COMPLETED, "");
            return in.done;
        }
    }

    /** What this host knows of {@code migrationId}: in memory while it runs, else from the host's record. */
    public Ownership ownership(String migrationId) {
        Incoming in = incoming.get(migrationId);
        if (in != null) {
            synchronized (in) {
                return in.owned ? Ownership.OWNED : Ownership.PREPARED;
            }
        }
        return host.ownership(migrationId);
    }

    /** Destroys the incoming VM and its backends, if any; refuses once the VM is owned here. */
    public void abort(String migrationId) throws MigrationException {
        Incoming in = incoming.get(migrationId);
        if (in == null) {
            return;
        }
        synchronized (in) {
            if (in.owned) {
                throw new MigrationException("migration " + migrationId + ": the VM already belongs to this host");
            }
            in.journal.phase(migrationId, Phase.ROLLING_BACK, "aborted by the source");
            List<String> problems = in.disks.abort(in.handle::isAlive);
            destroyQuietly(in.handle);
            incoming.remove(migrationId);
            in.journal.phase(migrationId, Phase.ROLLED_BACK, String.join("; ", problems));
            if (!problems.isEmpty()) {
                throw new MigrationException("migration " + migrationId + ": " + String.join("; ", problems));
            }
        }
    }

    /**
     * Starts {@code spec}'s QEMU reading the state saved in {@code file} from {@code offset} on, and
     * returns it once everything is in, still paused. On failure nothing of it is left.
     */
    public VmHandle restore(VmSpec spec, Path file, long offset, Duration limit) throws MigrationException {
        VmHandle handle;
        try {
            handle = vms.startIncoming(spec);
        } catch (VmException e) {
            throw new MigrationException(e.getMessage(), e);
        }
        try {
            String uri = "exec:tail -c +" + (offset + 1) + " " + SaveFile.shellQuote(file.toString());
            handle.qmp().execute("migrate-incoming", Map.of("uri", uri), Duration.ofSeconds(10));
            awaitReceived(handle, limit);
            return handle;
        } catch (QmpException | MigrationException | RuntimeException e) {
            destroyQuietly(handle);
            throw new MigrationException("vm '" + spec.name() + "': restoring from " + file + " failed: " + e.getMessage(), e);
        }
    }

    private void awaitReceived(Incoming in, Duration limit) throws MigrationException {
        awaitReceived(in.handle, limit);
    }

    private void awaitReceived(VmHandle handle, Duration limit) throws MigrationException {
        Instant until = clock.instant().plus(limit);
        while (true) {
            String status;
            try {
                status = handle.qmp().execute("query-migrate").path("status").asText("none");
            } catch (QmpException e) {
                throw new Destination.NotTakenException("the incoming QEMU is gone: " + e.getMessage());
            }
            if (status.equals("completed")) {
                return;
            }
            if (status.equals("failed") || status.equals("cancelled")) {
                throw new Destination.NotTakenException("the incoming migration " + status);
            }
            if (clock.instant().isAfter(until)) {
                throw new MigrationException("the incoming migration did not complete within " + limit.toSeconds() + " s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MigrationException("interrupted while waiting for the incoming migration", e);
            }
        }
    }

    private List<String> afterResume(String migrationId, Incoming in) {
        List<String> notes = new ArrayList<>();
        GuestControl guest = new QmpGuestControl(in.handle.qmp());
        for (DeviceControllers.Bound b : controllers.bind(in.spec, guest)) {
            DeviceContext ctx = new DeviceContext(in.spec.name(), in.spec.uuid().toString(), b.ref(), Mode.LIVE,
                    migrationAddress, e -> {});
            try {
                b.controller().afterResume(ctx);
            } catch (DeviceException | RuntimeException e) {
                in.journal.deviceStep(migrationId, b.ref().id(), "after-resume", "failed", e.getMessage());
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

    private LocalDisks.Planned plan(IncomingRequest req) throws MigrationException {
        try {
            return LocalDisks.plan(req.spec(), imagesRoot);
        } catch (SpecException e) {
            throw new MigrationException("the VM's spec is not valid on this host: " + e.getMessage(), e);
        }
    }

    private static String deviceOf(IncomingRequest req, String field) {
        return field.startsWith("devices[") ? field.substring(0, field.indexOf(']') + 1) : null;
    }

    private static void destroyQuietly(VmHandle handle) {
        try {
            handle.destroy();
        } catch (VmException | RuntimeException e) {
            log.warn("could not destroy incoming vm '{}': {}", handle.name(), e.getMessage());
        }
    }
}
