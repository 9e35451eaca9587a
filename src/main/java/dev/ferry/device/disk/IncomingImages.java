package dev.ferry.device.disk;

import dev.ferry.device.DeviceException;
import dev.ferry.device.IncomingDevice;
import dev.ferry.qmp.QmpClient;
import dev.ferry.vm.DeviceSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The copies of one incoming VM's disks: what they share. Room is counted across all of them
 * (two copies must both fit), and one NBD server of the incoming QEMU serves every export, started
 * with the first and stopped with the last.
 */
public final class IncomingImages {
    private final ImageStore store;
    private final String vm;
    private long claimedBytes;
    private NbdExport nbd;
    private int exports;

    public IncomingImages(ImageStore store, String vm) {
        this.store = store;
        this.vm = vm;
    }

    /**
     * The companion of a disk whose copy is an image file here.
     *
     * @param source    the source's image as the source described it; null if it sent none
     * @param toolFills whether the operator's disk tool fills the copy (else Ferry mirrors into an NBD export)
     */
    public IncomingDevice image(DeviceSpec.Disk disk, DiskImage source, boolean toolFills) {
        return new IncomingImage(this, disk, store.target(vm, disk), source, toolFills);
    }

    /** The companion of a host block device the operator's disk tool fills at the same path here. */
    public IncomingDevice blockDevice(DeviceSpec.Disk disk) {
        return new IncomingBlockDevice(disk);
    }

    DiskImages images() {
        return store.images();
    }

    /** Why {@code source} does not fit next to the copies checked before it; claims its room if it does. */
    synchronized Optional<String> claimRoom(String diskId, DiskImage source, Path target) {
        Path dir = existingAncestor(target.getParent());
        try {
            long usable = store.images().usableSpace(dir) - claimedBytes;
            Optional<String> refusal = DiskSpaceRule.refusal(diskId, source, false, dir, usable);
            if (refusal.isEmpty()) {
                claimedBytes += DiskSpaceRule.requiredBytes(source);
            }
            return refusal;
        } catch (DiskException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Exports block node {@code diskId} of the incoming QEMU writable; returns its NBD URI. */
    synchronized String export(QmpClient qmp, String diskId) throws DiskException {
        if (nbd == null) {
            nbd = new NbdExport(qmp);
            nbd.startServer(store.exportAddress(), 0, store.tlsExports());
        }
        String uri = nbd.add(diskId, diskId).uri();
        exports++;
        return uri;
    }

    /** Closes the export of {@code diskId}; the last one closed stops the server. */
    synchronized void closeExport(String diskId) throws DiskException {
        nbd.remove(diskId);
        if (--exports == 0) {
            nbd.stopServer();
            nbd = null;
        }
    }

    /** Rollback: drops the export of {@code diskId}, disconnecting the source, and the server with it. */
    synchronized void abortExport(String diskId) throws DiskException {
        if (nbd != null) {
            // Stops the server too; the other disks' aborts then find their exports gone.
            NbdExport server = nbd;
            nbd = null;
            exports = 0;
            server.abort(List.of(diskId));
        }
    }

    private static Path existingAncestor(Path dir) {
        Path p = dir.toAbsolutePath();
        while (p != null && !Files.isDirectory(p)) {
            p = p.getParent();
        }
        return p == null ? Path.of("/") : p;
    }
}
