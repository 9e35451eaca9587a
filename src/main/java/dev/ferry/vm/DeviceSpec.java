package dev.ferry.vm;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * One device of a VM, as validated by {@link VmSpecParser}. Each type carries only the data valid
 * for it; a back-end that differs by variant (a NIC's user/socket/tap, a TPM's swtpm/external, a
 * USB or PCI device that is emulated or passed through) is its own sealed type, so code that
 * builds QEMU arguments or plans a migration switches over cases instead of testing nullable fields.
 */
public sealed interface DeviceSpec {

    /** Unique within the VM; also the QEMU id of the device (and the block node name of a disk). */
    String id();

    /** The {@code type:} of the device in YAML. */
    String type();

    /** A disk image or host block device. {@code blockDevice} is what the host said at parse time. */
    record Disk(String id, Path path, DiskFormat format, boolean shared, DiskBus bus, DiskCache cache,
                boolean blockDevice) implements DeviceSpec {
        @Override public String type() { return "disk"; }
    }

    /** A network card; {@code mac} is always set (generated from the VM's uuid when the spec has none). */
    record Nic(String id, String mac, NetBackend backend) implements DeviceSpec {
        @Override public String type() { return "nic"; }
    }

    record Tpm(String id, TpmModel model, TpmBackend backend) implements DeviceSpec {
        @Override public String type() { return "tpm"; }
    }

    record Usb(String id, UsbSource source) implements DeviceSpec {
        @Override public String type() { return "usb"; }
    }

    record Pci(String id, PciSource source) implements DeviceSpec {
        @Override public String type() { return "pci"; }
    }

    /** A device QEMU never sees; only the configured external tool knows what {@code kind} means. */
    record External(String id, String kind, Map<String, String> params) implements DeviceSpec {
        public External {
            params = Map.copyOf(params);
        }
        @Override public String type() { return "external"; }
    }

    /** Where a NIC's packets go. */
    sealed interface NetBackend {}
    /** QEMU's user-mode network (slirp). */
    record UserNet() implements NetBackend {}
    /** A QEMU socket netdev; {@code address} is {@code host:port} (host may be empty for listen). */
    record SocketNet(boolean listen, String address) implements NetBackend {}
    /** A tap device {@code ifname} attached to {@code bridge}. */
    record TapNet(String bridge, String ifname) implements NetBackend {}

    /** Who keeps a TPM's state. */
    sealed interface TpmBackend {}
    /** An swtpm that the host starts next to QEMU; state encrypted with the key in {@code encryptionKeyFile} when set (may be null). */
    record Swtpm(Path encryptionKeyFile) implements TpmBackend {}
    /** An emulator run by someone else, reached at its control socket; its state moves only through a tool. */
    record ExternalTpm(Path socket) implements TpmBackend {}

    sealed interface UsbSource {}
    /** A USB device QEMU emulates, such as {@code usb-tablet}. */
    record EmulatedUsb(String model) implements UsbSource {}
    /** A host USB device by vendor and product id, both {@code 0x} followed by four hex digits. */
    record HostUsbById(String vendor, String product) implements UsbSource {}
    /** A host USB device by bus number and address. */
    record HostUsbByPort(int bus, int addr) implements UsbSource {}

    sealed interface PciSource {}
    /** A PCI device QEMU emulates, such as {@code virtio-rng-pci}. */
    record EmulatedPci(String model) implements PciSource {}
    /** A host PCI function (full address {@code 0000:03:00.0}) passed through with vfio. */
    record HostPci(String address, PciMigration migration) implements PciSource {}

    /** An enum spelled in YAML by {@link #wire()}. */
    interface Wire {
        String wire();

        static String of(Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    enum DiskFormat implements Wire {
        QCOW2, RAW;
        @Override public String wire() { return Wire.of(this); }
    }

    enum DiskBus implements Wire {
        /** {@code virtio-blk-pci}. */
        VIRTIO,
        /** {@code scsi-hd} on one shared {@code virtio-scsi-pci} controller. */
        SCSI;
        @Override public String wire() { return Wire.of(this); }
    }

    enum DiskCache implements Wire {
        /** Bypasses the host page cache ({@code cache.direct=on}): what the guest flushed is on the image. */
        NONE,
        /** Uses the host page cache; needed on file systems without O_DIRECT, such as tmpfs. */
        WRITEBACK;
        @Override public String wire() { return Wire.of(this); }
    }

    enum TpmModel implements Wire {
        TPM_TIS, TPM_CRB;
        @Override public String wire() { return Wire.of(this); }
    }

    enum PciMigration implements Wire {
        /** The VM cannot migrate while the device is attached. */
        REFUSE,
        /** Unplugged before migration and plugged in again on the destination after resume. */
        UNPLUG_REPLUG;
        @Override public String wire() { return Wire.of(this); }
    }
}
