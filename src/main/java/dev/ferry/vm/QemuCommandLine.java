package dev.ferry.vm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds QEMU's argv for a {@link VmSpec}. Pure: what the host looks like (KVM or not) comes in as
 * {@link Accel}. Block devices use -blockdev's JSON form so that image paths need no escaping;
 * other options use QEMU's key=value syntax, where a comma in a value is written twice.
 *
 * <p>Block node names are the disk's id (format node) and {@code ID.file} (protocol node); ids
 * Ferry adds itself ({@code ferry.xhci}, {@code ferry.scsi}) contain a dot, which spec ids cannot,
 * so they never clash with a device of the spec.
 */
final class QemuCommandLine {
    static final String XHCI_ID = "ferry.xhci";
    static final String SCSI_ID = "ferry.scsi";
    private static final ObjectMapper JSON = new ObjectMapper();

    enum Accel {
        KVM, TCG
    }

    private final VmSpec spec;
    private final RunDir run;
    private final List<String> argv = new ArrayList<>();

    private QemuCommandLine(VmSpec spec, RunDir run) {
        this.spec = spec;
        this.run = run;
    }

    /**
     * @param incoming whether QEMU waits for a migration stream ({@code -incoming defer}) instead of booting
     */
    static List<String> build(Path qemu, VmSpec spec, RunDir run, Accel accel, boolean incoming) {
        QemuCommandLine b = new QemuCommandLine(spec, run);
        b.add(qemu.toString());
        b.machine(accel);
        b.control();
        b.boot();
        b.devices(incoming);
        if (incoming) {
            // -S: the guest stays paused after the stream is in, until this host has recorded that it owns the VM.
            b.add("-S");
            b.add("-incoming", "defer");
        }
        return List.copyOf(b.argv);
    }

    private void machine(Accel accel) {
        add("-name", "guest=" + spec.name());
        add("-uuid", spec.uuid().toString());
        add("-machine", escape(spec.machine()));
        add("-accel", accel == Accel.KVM ? "kvm" : "tcg");
        add("-m", Integer.toString(spec.memoryMiB()));
        add("-smp", Integer.toString(spec.vcpus()));
        add("-nodefaults", "-no-user-config", "-display", "none");
    }

    private void control() {
        add("-daemonize", "-pidfile", run.qemuPidFile().toString());
        // A daemonized QEMU writes its errors to /dev/null unless it has a log file: with one, its
        // stderr goes there, and a failed incoming migration can say QEMU's own reason.
        add("-D", run.qemuLog().toString());
        add("-chardev", "socket,id=ferry.qmp,path=" + escape(run.qmpSocket()) + ",server=on,wait=off");
        add("-mon", "chardev=ferry.qmp,mode=control");
        add("-chardev", "file,id=ferry.serial,path=" + escape(run.serialLog()));
        add("-serial", "chardev:ferry.serial");
    }

    private void boot() {
        VmSpec.KernelBoot boot = spec.kernelBoot();
        if (boot == null) {
            return;
        }
        add("-kernel", boot.kernel().toString());
        if (boot.initrd() != null) {
            add("-initrd", boot.initrd().toString());
        }
        if (boot.cmdline() != null) {
            add("-append", boot.cmdline());
        }
    }

    private void devices(boolean incoming) {
        if (!spec.devices(DeviceSpec.Usb.class).isEmpty()) {
            add("-device", "qemu-xhci,id=" + XHCI_ID);
        }
        if (spec.devices(DeviceSpec.Disk.class).stream().anyMatch(d -> d.bus() == DeviceSpec.DiskBus.SCSI)) {
            add("-device", "virtio-scsi-pci,id=" + SCSI_ID);
        }
        for (DeviceSpec d : spec.devices()) {
            if (d instanceof DeviceSpec.Disk disk) {
                disk(disk);
            } else if (d instanceof DeviceSpec.Nic nic) {
                nic(nic);
            } else if (d instanceof DeviceSpec.Tpm tpm) {
                tpm(tpm);
            } else if (d instanceof DeviceSpec.Usb usb) {
                usb(usb);
            } else if (d instanceof DeviceSpec.Pci pci) {
                if (!(incoming && unpluggedForMigration(pci))) {
                    pci(pci);
                }
            } else if (!(d instanceof DeviceSpec.External)) {
                throw new IllegalStateException("Invalid device type: " + d.getClass().getName());
            }
        }
    }

    /** A device the source unplugs before migrating; the destination plugs it in after resume, not at start. */
    private static boolean unpluggedForMigration(DeviceSpec.Pci pci) {
        return pci.source() instanceof DeviceSpec.HostPci h && h.migration() == DeviceSpec.PciMigration.UNPLUG_REPLUG;
    }

    private void disk(DeviceSpec.Disk disk) {
        boolean direct = disk.cache() == DeviceSpec.DiskCache.NONE;
        ObjectNode file = JSON.createObjectNode()
                .put("driver", disk.blockDevice() ? "host_device" : "file")
                .put("node-name", fileNode(disk.id()))
                .put("filename", disk.path().toString());
        file.putObject("cache").put("direct", direct);
        ObjectNode format = JSON.createObjectNode()
                .put("driver", disk.format().wire())
                .put("node-name", disk.id())
                .put("file", fileNode(disk.id()));
        format.putObject("cache").put("direct", direct);
        add("-blockdev", file.toString());
        add("-blockdev", format.toString());
        if (disk.bus() == DeviceSpec.DiskBus.SCSI) {
            add("-device", "scsi-hd,drive=" + disk.id() + ",id=" + disk.id() + ",bus=" + SCSI_ID + ".0");
        } else {
            add("-device", "virtio-blk-pci,drive=" + disk.id() + ",id=" + disk.id());
        }
    }

    /** The protocol (file) node under a disk's format node. */
    static String fileNode(String diskId) {
        return diskId + ".file";
    }

    private void nic(DeviceSpec.Nic nic) {
        String id = nic.id();
        if (nic.backend() instanceof DeviceSpec.UserNet) {
            add("-netdev", "user,id=" + id);
        } else if (nic.backend() instanceof DeviceSpec.SocketNet s) {
            add("-netdev", "socket,id=" + id + "," + (s.listen() ? "listen=" : "connect=") + s.address());
        } else if (nic.backend() instanceof DeviceSpec.TapNet t) {
            // The host attaches the tap to its bridge after QEMU created it; QEMU runs no scripts.
            add("-netdev", "tap,id=" + id + ",ifname=" + t.ifname() + ",script=no,downscript=no");
        }
        add("-device", "virtio-net-pci,netdev=" + id + ",id=" + id + ",mac=" + nic.mac());
    }

    private void tpm(DeviceSpec.Tpm tpm) {
        Path socket = tpm.backend() instanceof DeviceSpec.ExternalTpm e ? e.socket() : run.swtpmSocket();
        String chardev = "chr-" + tpm.id();
        add("-chardev", "socket,id=" + chardev + ",path=" + escape(socket));
        add("-tpmdev", "emulator,id=" + tpm.id() + ",chardev=" + chardev);
        add("-device", tpm.model().wire() + ",tpmdev=" + tpm.id() + ",id=" + tpm.id());
    }

    private void usb(DeviceSpec.Usb usb) {
        String common = ",id=" + usb.id() + ",bus=" + XHCI_ID + ".0";
        if (usb.source() instanceof DeviceSpec.EmulatedUsb e) {
            add("-device", e.model() + common);
        } else if (usb.source() instanceof DeviceSpec.HostUsbById h) {
            add("-device", "usb-host" + common + ",vendorid=" + h.vendor() + ",productid=" + h.product());
        } else if (usb.source() instanceof DeviceSpec.HostUsbByPort h) {
            add("-device", "usb-host" + common + ",hostbus=" + h.bus() + ",hostaddr=" + h.addr());
        }
    }

    private void pci(DeviceSpec.Pci pci) {
        if (pci.source() instanceof DeviceSpec.EmulatedPci e) {
            add("-device", e.model() + ",id=" + pci.id());
        } else if (pci.source() instanceof DeviceSpec.HostPci h) {
            add("-device", "vfio-pci,host=" + h.address() + ",id=" + pci.id());
        }
    }

    static String escape(Object value) {
        return value.toString().replace(",", ",,");
    }

    private void add(String... args) {
        argv.addAll(List.of(args));
    }
}
