package dev.ferry.device;

import dev.ferry.vm.VmSpec;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The destination's half of one device's migration: what this host checks, makes and undoes so
 * that the incoming QEMU can take the device. {@link DeviceControllers#bindIncoming} gives every
 * device one, in spec order; devices whose state travels in QEMU's stream get {@link #NONE}.
 *
 * <pre>
 * check ──> prepare ──> (incoming QEMU starts) ──> open ──> ... ──> beforeOwnership ──> (VM taken)
 *              \______________________ abort, any time before the VM is taken ___________/
 * </pre>
 */
public interface IncomingDevice {

    /** Does nothing: the device needs nothing made on this host. */
    IncomingDevice NONE = new IncomingDevice() {};

    /** The spec as this host runs it; a disk whose copy lives elsewhere here says where. */
    default VmSpec place(VmSpec spec) {
        return spec;
    }

    /** Why this host cannot take the device (each reason with its fix); empty when it can. No side effects. */
    default List<String> check() {
        return List.of();
    }

    /** Before the incoming QEMU starts: makes what it must open (a disk's target image). */
    default void prepare() throws DeviceException {}

    /**
     * After the incoming QEMU started: opens where the source sends this device's data and
     * returns it (an NBD URI, or the path a disk tool fills), or null when there is none.
     */
    default String open(GuestControl qemu) throws DeviceException {
        return null;
    }

    /** QEMU's stream is in and the VM is about to be taken here: close what the source wrote through. */
    default void beforeOwnership() throws DeviceException {}

    /**
     * Rollback: removes exactly what {@link #prepare} and {@link #open} made. Never throws; returns
     * what could not be undone. {@code qemuAlive} tells whether the incoming QEMU still runs.
     */
    default List<String> abort(BooleanSupplier qemuAlive) {
        return List.of();
    }
}
