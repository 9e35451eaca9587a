package dev.ferry.device.disk;

import dev.ferry.device.DeviceException;
import dev.ferry.device.GuestControl;
import dev.ferry.device.IncomingDevice;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The destination's copy of a disk image not shared with the source: an empty image of the
 * source's format and size, made before the incoming QEMU starts so that QEMU can open it. Ferry's
 * mirror fills it through an NBD export; a configured disk tool fills it in place instead, and
 * is given its path.
 */
final class IncomingImage implements IncomingDevice {
    private final IncomingImages copies;
    private final DeviceSpec.Disk disk;
    private final Path target;
    private final DiskImage source;
    private final boolean toolFills;
    private boolean created;
    private boolean createdDir;
    private boolean exported;

    IncomingImage(IncomingImages copies, DeviceSpec.Disk disk, Path target, DiskImage source, boolean toolFills) {
        this.copies = copies;
        this.disk = disk;
        this.target = target;
        this.source = source;
        this.toolFills = toolFills;
    }

    @Override
    public VmSpec place(VmSpec spec) {
        return spec.withDisk(disk.id(), target);
    }

    @Override
    public List<String> check() {
        if (source == null) {
            return List.of("the source sent no size for this disk; run the same Ferry version on both hosts");
        }
        if (Files.exists(target)) {
            return List.of("an image " + target + " already exists on this host; remove it if it is a leftover");
        }
        return copies.claimRoom(disk.id(), source, target).map(List::of).orElse(List.of());
    }

    @Override
    public void prepare() throws DeviceException {
        if (source == null) {
            throw new DeviceException("disk '" + disk.id() + "': the source sent no size for it");
        }
        try {
            Path dir = target.getParent();
            createdDir = !Files.isDirectory(dir);
            Files.createDirectories(dir);
            // The room CHECK counted is taken now, before anything moves: a disk that fills later
            // (another process, another copy) cannot fail the copy half-way.
            copies.images().createPreallocated(target, source.format(), source.virtualSize(),
                    DiskSpaceRule.requiredBytes(source));
            created = true;
        } catch (IOException | DiskException e) {
            throw new DeviceException("disk '" + disk.id() + "': creating its copy " + target + " failed: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public String open(GuestControl qemu) throws DeviceException {
        if (toolFills) {
            return target.toString();
        }
        try {
            String uri = copies.export(qemu.qmp(), disk.id());
            exported = true;
            return uri;
        } catch (DiskException e) {
            throw new DeviceException("disk '" + disk.id() + "': exporting its copy failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void beforeOwnership() throws DeviceException {
        if (!exported) {
            return;
        }
        try {
            copies.closeExport(disk.id());
            exported = false;
        } catch (DiskException e) {
            throw new DeviceException("disk '" + disk.id() + "': closing its export failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<String> abort(BooleanSupplier qemuAlive) {
        List<String> problems = new ArrayList<>();
        // An incoming QEMU that already exited (it does when the source cancels) took its exports along.
        if (exported && qemuAlive.getAsBoolean()) {
            try {
                copies.abortExport(disk.id());
            } catch (DiskException e) {
                if (qemuAlive.getAsBoolean()) {
                    problems.add(e.getMessage());
                }
            }
        }
        exported = false;
        if (created) {
            try {
                copies.images().delete(target);
                created = false;
            } catch (DiskException e) {
                problems.add(e.getMessage());
            }
        }
        if (createdDir) {
            try {
                Files.deleteIfExists(target.getParent());
            } catch (IOException e) {
                // Not empty: another copy of this VM's is still there, and its own abort runs next.
            }
        }
        return problems;
    }
}
