package dev.ferry.migration;

import dev.ferry.device.disk.DiskImage;
import dev.ferry.migration.MigrationReport.Blocker;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The wire types of the peer protocol, used by both ends: the source's {@link PeerClient} sends
 * them, the destination's {@link DestinationMigrations} answers them, under
 * {@code /v1/peer/migrations/{id}/check|prepare|switchover|abort} (POST, a {@link Request}) and
 * {@code .../ownership} (GET). Every call is idempotent: a source that lost an answer asks again.
 */
public final class PeerProtocol {
    /** Bumped whenever a message changes meaning; the destination refuses another version at CHECK. */
    public static final int VERSION = 3;

    private PeerProtocol() {}

    /**
     * What the source tells the destination about the migration it wants to run.
     *
     * @param protocol    the source's {@link #VERSION}
     * @param migrationId the source's id for the migration; the destination keys everything by it
     * @param sourceHost  the source host's name
     * @param spec        the VM's normalized spec (YAML), with the same uuid and device ids
     * @param mode        {@code live}
     * @param localDisks  the images of the disk files not shared, by device id, as the source sees them: the
     *                    destination sizes its copies by them, whether Ferry or a disk tool fills the copy
     * @param localBlockDevices the disks not shared that are host block devices on the source, by device
     *                    id: their paths, which a disk tool fills at the same path on the destination
     * @param guestRunning whether the guest runs on the source; a paused guest stays paused on the destination
     */
    public record Request(int protocol, String migrationId, String sourceHost, String spec, String mode,
                          Map<String, DiskImage> localDisks, Map<String, Path> localBlockDevices,
                          boolean guestRunning) {
        public Request {
            localDisks = localDisks == null ? Map.of() : Map.copyOf(localDisks);
            localBlockDevices = localBlockDevices == null ? Map.of() : Map.copyOf(localBlockDevices);
        }
    }

    /** The destination's answer to check: everything that would stop the VM from running there. */
    public record CheckReply(List<Blocker> blockers) {}

    /**
     * The destination's addresses: QEMU's stream, and per-device endpoints: a copied disk's NBD
     * export, or (since version 3) the path on the destination that a disk tool fills. {@code qemuPid}
     * is the incoming QEMU's pid on the destination (null from a file or an older destination), so that
     * the source can name it when the stream stalls.
     */
    public record Prepared(String uri, Map<String, String> endpoints, Long qemuPid) {
        public Prepared {
            endpoints = endpoints == null ? Map.of() : Map.copyOf(endpoints);
        }

        public Prepared(String uri, Map<String, String> endpoints) {
            this(uri, endpoints, null);
        }
    }

    /** What the destination did after it took the VM: whether the guest runs, and the devices' notes. */
    public record Switchover(boolean resumed, List<String> notes) {
        public Switchover {
            notes = notes == null ? List.of() : List.copyOf(notes);
        }
    }

    /** What the destination knows of a migration, for a source that lost track of it. */
    public enum Ownership {
        /** The VM belongs to the destination. */
        OWNED,
        /** Prepared and not (yet) taken. */
        PREPARED,
        /** Given up: aborted, or torn down after a restart before it was taken. */
        ABORTED,
        /** The destination never heard of the migration. */
        UNKNOWN
    }

    /** The destination's answer to "whose is the VM of this migration?". */
    public record OwnershipReply(Ownership ownership) {}
}
