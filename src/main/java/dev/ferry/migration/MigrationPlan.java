package dev.ferry.migration;

import dev.ferry.device.DeviceController;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.DeviceRef;
import dev.ferry.device.GuestControl;
import dev.ferry.device.Mode;
import dev.ferry.vm.QemuTls;
import dev.ferry.vm.VmSpec;
import java.util.List;
import java.util.Objects;

/**
 * Everything the coordinator needs to move one VM: who, where, which devices with which
 * controllers, and how.
 *
 * @param streamTls how the source's QEMU reaches the destination's over TLS (the migration stream and
 *                  the disks' NBD copies); null when they travel plain (no {@code tls}, or a save to a file)
 */
public record MigrationPlan(String id, String vmName, String vmUuid, String sourceHost, Mode mode,
                            String destination, List<Unit> devices, MigrationParams params, QemuTls.Peer streamTls) {

    public MigrationPlan(String id, String vmName, String vmUuid, String sourceHost, Mode mode,
                         String destination, List<Unit> devices, MigrationParams params) {
        this(id, vmName, vmUuid, sourceHost, mode, destination, devices, params, null);
    }

    public MigrationPlan {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(vmName, "vmName");
        devices = List.copyOf(devices);
    }

    /** One device and the controller that moves it. */
    public record Unit(DeviceRef ref, DeviceController controller) {}

    /** The units of every device of {@code spec}, in spec order, its controllers driving {@code guest}. */
    static List<Unit> units(DeviceControllers devices, VmSpec spec, GuestControl guest) {
        return devices.bind(spec, guest).stream().map(b -> new Unit(b.ref(), b.controller())).toList();
    }
}
