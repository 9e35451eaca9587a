package dev.ferry.device;

import dev.ferry.qmp.QmpClient;
import dev.ferry.vm.DeviceSpec;

/**
 * What device controllers may ask of a VM's QEMU on one host: hot-unplug and hot-plug (for the
 * unplug-replug policy) and announcing a NIC's address after the guest moved.
 */
public interface GuestControl {

    /** Unplugs device {@code id} and waits until the guest has let go of it. */
    void unplug(String id) throws DeviceException;

    /** Plugs {@code device} in again with its spec's settings. */
    void plug(DeviceSpec device) throws DeviceException;

    /** Makes the network learn the NIC's new place (gratuitous ARP/RARP). */
    void announce(String nicId) throws DeviceException;

    /** The VM's QMP connection, for devices that run QEMU block jobs. */
    QmpClient qmp() throws DeviceException;

    /** For VMs whose QEMU cannot be reached here (dry runs): every call fails with a clear message. */
    GuestControl NONE = new GuestControl() {
        @Override
        public void unplug(String id) throws DeviceException {
            throw new DeviceException("no QEMU to unplug '" + id + "' from");
        }

        @Override
        public void plug(DeviceSpec device) throws DeviceException {
            throw new DeviceException("no QEMU to plug '" + device.id() + "' into");
        }

        @Override
        public void announce(String nicId) throws DeviceException {
            throw new DeviceException("no QEMU to announce '" + nicId + "' from");
        }

        @Override
        public QmpClient qmp() throws DeviceException {
            throw new DeviceException("no QEMU here");
        }
    };
}
