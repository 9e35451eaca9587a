package dev.ferry.device.disk;

import dev.ferry.device.GuestControl;
import dev.ferry.device.IncomingDevice;
import dev.ferry.vm.DeviceSpec;
import java.nio.file.Files;
import java.util.List;

/**
 * A host block device not shared with the source, which the operator's disk tool fills: the
 * destination has a device at the same path (a LUN or volume the operator provided), opens it
 * there and hands its path to the tool. Nothing is made, so nothing is removed on rollback: the
 * device is the operator's.
 */
final class IncomingBlockDevice implements IncomingDevice {
    private final DeviceSpec.Disk disk;

    IncomingBlockDevice(DeviceSpec.Disk disk) {
        this.disk = disk;
    }

    @Override
    public List<String> check() {
        if (!Files.exists(disk.path())) {
            return List.of("host block device " + disk.path() + " does not exist on this host; the disk tool fills"
                    + " the device at the same path here, so provide it before migrating");
        }
        try {
            if (!DiskImages.isBlockDevice(disk.path())) {
                return List.of(disk.path() + " is a host block device on the source but not on this host;"
                        + " provide the same device here");
            }
        } catch (DiskException e) {
            return List.of(e.getMessage());
        }
        return List.of();
    }

    @Override
    public String open(GuestControl qemu) {
        return disk.path().toString();
    }
}
