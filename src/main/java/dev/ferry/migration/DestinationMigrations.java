package dev.ferry.migration;

import dev.ferry.migration.PeerProtocol.CheckReply;
import dev.ferry.migration.PeerProtocol.Ownership;
import dev.ferry.migration.PeerProtocol.Prepared;
import dev.ferry.migration.PeerProtocol.Switchover;
import dev.ferry.migration.RequestException.Kind;
import dev.ferry.qmp.QmpException;
import dev.ferry.vm.PathRefusedException;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.SpecPaths;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import dev.ferry.vm.VmState;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host as a migration's destination (the peer endpoints, answering {@link PeerProtocol}
 * requests through {@link IncomingMigrations}) and as the place a saved VM is restored. Turns
 * the protocol's failures into {@link RequestException}s the API can answer with.
 */
public final class DestinationMigrations {
    private static final Logger log = LoggerFactory.getLogger(DestinationMigrations.class);
    private static final Duration RECEIVE_LIMIT = Duration.ofMinutes(10);

    private final IncomingMigrations incoming;
    private final VmHost runtime;
    private final HostVms vms;
    private final PathRoots roots;

    /** @param roots where save files may be restored from, and what the restored VM may use */
    public DestinationMigrations(IncomingMigrations incoming, VmHost runtime, HostVms vms, PathRoots roots) {
        this.incoming = incoming;
        this.roots = roots;
        this.runtime = runtime;
        this.vms = vms;
    }

    public CheckReply check(PeerProtocol.Request r) {
        return new CheckReply(incoming.check(r));
    }

    public Prepared prepare(PeerProtocol.Request r) {
        return prepare(r, null);
    }

    /** Prepares for a source whose host certificate has {@code sourceSubject} (null when the call was plain HTTP). */
    public Prepared prepare(PeerProtocol.Request r, String sourceSubject) {
        if (r.protocol() != PeerProtocol.VERSION) {
            throw new RequestException(Kind.CONFLICT, IncomingMigrations.versionMismatch(r.protocol()));
        }
        try {
            return incoming.prepare(r, sourceSubject);
        } catch (MigrationException e) {
            if (e.getCause() instanceof SpecException) {
                throw new RequestException(Kind.INVALID_SPEC, e.getMessage(), e);
            }
            if (e.getCause() instanceof PathRefusedException refused) {
                throw new RequestException(refused.missing() ? Kind.INVALID_SPEC : Kind.PATH_NOT_ALLOWED, e.getMessage(), e);
            }
            throw new RequestException(Kind.FAILED, e.getMessage(), e);
        }
    }

    public Switchover switchover(PeerProtocol.Request r) {
        try {
            return incoming.switchover(r.migrationId(), RECEIVE_LIMIT);
        } catch (Destination.NotTakenException e) {
            throw new RequestException(Kind.NOT_TAKEN, e.getMessage(), e);
        } catch (MigrationException e) {
            throw new RequestException(Kind.FAILED, e.getMessage(), e);
        }
    }

    public void abort(PeerProtocol.Request r) {
        try {
            incoming.abort(r);
        } catch (MigrationException e) {
            throw new RequestException(Kind.CONFLICT, e.getMessage(), e);
        }
    }

    /** What this host knows of the migration, live or from its history (a recovering source asks). */
    public Ownership ownership(String migrationId) {
        return incoming.ownership(migrationId);
    }

    /** Brings back a VM saved to {@code file}; it ends running here. Returns its name. */
    public String restore(String file) {
        if (file == null || !Path.of(file).isAbsolute()) {
            throw new RequestException(Kind.INVALID, "file: give the absolute path of a file 'ferry save' wrote");
        }
        // Read and handed to QEMU as resolved: a file swapped for a link after this check is not what gets read.
        Path path = confined(() -> roots.existing(PathRoots.Use.SAVE, "file", Path.of(file)), Kind.INVALID, "");
        SaveFile.Contents saved;
        VmSpec spec;
        try {
            saved = SaveFile.read(path);
            spec = VmSpecParser.parse(saved.spec(), Path.of("/"));
        } catch (NoSuchFileException e) {
            throw new RequestException(Kind.INVALID, "file: " + path + " does not exist on this host", e);
        } catch (IOException e) {
            throw new RequestException(Kind.INVALID, "file: " + e.getMessage(), e);
        } catch (SpecException e) {
            throw new RequestException(Kind.INVALID_SPEC, "the saved VM's spec is not valid on this host: "
                    + e.getMessage(), e);
        }
        String name = spec.name();
        VmSpec runnable = confined(() -> SpecPaths.confine(spec, roots), Kind.INVALID_SPEC,
                "the saved vm '" + name + "': ");
        try (HostVms.Lease lease = vms.lease(name, "restore from " + path)) {
            if (vms.defined(name) && vms.state(name).hasProcess()) {
                throw new RequestException(Kind.CONFLICT, "vm '" + name + "' is " + vms.state(name).wireName()
                        + " here; stop it before restoring it from " + path);
            }
            if (!vms.defined(name)) {
                vms.add(spec, VmState.DEFINED);
            }
            vms.move(name, VmState.STARTING);
            VmHandle handle;
            try {
                handle = startRestore(runnable, path, saved.streamOffset());
            } catch (MigrationException e) {
                vms.move(name, VmState.CRASHED);
                throw new RequestException(Kind.FAILED, e.getMessage(), e);
            }
            vms.attach(handle);
            try {
                handle.resume();
            } catch (VmException e) {
                vms.move(name, VmState.PAUSED);
                throw new RequestException(Kind.FAILED, "vm '" + name + "' restored but did not resume: "
                        + e.getMessage(), e);
            }
            vms.move(name, VmState.RUNNING);
            log.info("vm '{}' restored from {}", name, path);
            return name;
        }
    }

    private interface PathCheck<T> {
        T run() throws PathRefusedException;
    }

    /** A path check's result; its refusal as a request error: 403, or {@code ifMissing} when nothing is there. */
    private static <T> T confined(PathCheck<T> check, Kind ifMissing, String prefix) {
        try {
            return check.run();
        } catch (PathRefusedException e) {
            throw new RequestException(e.missing() ? ifMissing : Kind.PATH_NOT_ALLOWED, prefix + e.getMessage(), e);
        }
    }

    /**
     * Starts {@code spec}'s QEMU reading the state saved in {@code file} from {@code offset} on, and
     * returns it once everything is in, still paused. On failure nothing of it is left.
     */
    private VmHandle startRestore(VmSpec spec, Path file, long offset) throws MigrationException {
        VmHandle handle;
        try {
            handle = runtime.startIncoming(spec);
        } catch (VmException e) {
            throw new MigrationException(e.getMessage(), e);
        }
        try {
            String uri = "exec:tail -c +" + (offset + 1) + " " + SaveFile.shellQuote(file.toString());
            handle.qmp().execute("migrate-incoming", Map.of("uri", uri), Duration.ofSeconds(10));
            IncomingStream.awaitReceived(handle, RECEIVE_LIMIT);
            IncomingStream.checkStateOnDisk(spec, handle);
            return handle;
        } catch (QmpException | MigrationException | RuntimeException e) {
            IncomingMigrations.destroyQuietly(handle);
            throw new MigrationException("vm '" + spec.name() + "': restoring from " + file + " failed: "
                    + DeviceSteps.message(e), e);
        }
    }
}
