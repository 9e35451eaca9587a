package dev.ferry.vm;

import dev.ferry.vm.DeviceSpec.DiskBus;
import dev.ferry.vm.DeviceSpec.DiskCache;
import dev.ferry.vm.DeviceSpec.DiskFormat;
import dev.ferry.vm.QemuCommandLine.Accel;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class QemuCommandLineTest {
    static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    static final RunDir RUN = new RunDir(Path.of("/run/ferry/web1"));
    static final UUID ID = UUID.fromString("6f1c0a3e-8d2b-4c55-9e71-0123456789ab");

    static VmSpec spec(DeviceSpec... devices) {
        return new VmSpec("web1", ID, 256, 2, "q35", null, List.of(devices));
    }

    static List<String> argv(VmSpec spec) {
        return QemuCommandLine.build(QEMU, spec, RUN, Accel.TCG, false);
    }

    /** The values given to each occurrence of {@code option}. */
    static List<String> values(List<String> argv, String option) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < argv.size() - 1; i++) {
            if (argv.get(i).equals(option)) {
                out.add(argv.get(i + 1));
            }
        }
        return out;
    }

    @Test
    void machine_memoryCpusAndIdentity() {
        List<String> argv = argv(spec());

        assertThat(argv.get(0)).isEqualTo(QEMU.toString());
        assertThat(values(argv, "-name")).containsExactly("guest=web1");
        assertThat(values(argv, "-uuid")).containsExactly(ID.toString());
        assertThat(values(argv, "-machine")).containsExactly("q35");
        assertThat(values(argv, "-m")).containsExactly("256");
        assertThat(values(argv, "-smp")).containsExactly("2");
        assertThat(argv).contains("-nodefaults", "-no-user-config", "-daemonize").doesNotContain("-incoming", "-kernel");
        assertThat(values(argv, "-display")).containsExactly("none");
    }

    @Test
    void accel_followsWhatTheHostHas() {
        assertThat(values(argv(spec()), "-accel")).containsExactly("tcg");
        assertThat(values(QemuCommandLine.build(QEMU, spec(), RUN, Accel.KVM, false), "-accel")).containsExactly("kvm");
    }

    @Test
    void controlFiles_liveInTheRunDir() {
        List<String> argv = argv(spec());

        assertThat(values(argv, "-pidfile")).containsExactly("/run/ferry/web1/qemu.pid");
        assertThat(values(argv, "-chardev")).containsExactly(
                "socket,id=ferry.qmp,path=/run/ferry/web1/qmp.sock,server=on,wait=off",
                "file,id=ferry.serial,path=/run/ferry/web1/serial.log");
        assertThat(values(argv, "-mon")).containsExactly("chardev=ferry.qmp,mode=control");
        assertThat(values(argv, "-serial")).containsExactly("chardev:ferry.serial");
    }

    @Test
    void commasInRunDirPaths_areDoubled() {
        List<String> argv = QemuCommandLine.build(QEMU, spec(), new RunDir(Path.of("/run/a,b")), Accel.TCG, false);

        assertThat(values(argv, "-chardev")).contains("socket,id=ferry.qmp,path=/run/a,,b/qmp.sock,server=on,wait=off");
    }

    @Test
    void kernelBoot_addsKernelInitrdAndAppend() {
        VmSpec spec = new VmSpec("web1", ID, 256, 1, "q35",
                new VmSpec.KernelBoot(Path.of("/g/bzImage"), Path.of("/g/initrd"), "console=ttyS0 quiet"), List.of());

        List<String> argv = argv(spec);

        assertThat(values(argv, "-kernel")).containsExactly("/g/bzImage");
        assertThat(values(argv, "-initrd")).containsExactly("/g/initrd");
        assertThat(values(argv, "-append")).containsExactly("console=ttyS0 quiet");
    }

    @Test
    void incoming_waitsForAMigrationStream() {
        List<String> argv = QemuCommandLine.build(QEMU, spec(), RUN, Accel.TCG, true);
        assertThat(values(argv, "-incoming")).containsExactly("defer");
        assertThat(argv).as("paused until the destination owns the VM").contains("-S");
    }

    @Test
    void disk_isAFileNodeUnderAFormatNodeNamedByItsId() {
        List<String> argv = argv(spec(new DeviceSpec.Disk("data0", Path.of("/img/a,b.qcow2"), DiskFormat.QCOW2, false,
                DiskBus.VIRTIO, DiskCache.NONE, false)));

        assertThat(values(argv, "-blockdev")).containsExactly(
                "{\"driver\":\"file\",\"node-name\":\"data0.file\",\"filename\":\"/img/a,b.qcow2\",\"cache\":{\"direct\":true}}",
                "{\"driver\":\"qcow2\",\"node-name\":\"data0\",\"file\":\"data0.file\",\"cache\":{\"direct\":true}}");
        assertThat(values(argv, "-device")).containsExactly("virtio-blk-pci,drive=data0,id=data0");
    }

    @Test
    void blockDeviceScsiWritebackDisk() {
        List<String> argv = argv(spec(new DeviceSpec.Disk("d1", Path.of("/dev/sdb"), DiskFormat.RAW, true,
                DiskBus.SCSI, DiskCache.WRITEBACK, true)));

        assertThat(values(argv, "-blockdev").get(0)).startsWith("{\"driver\":\"host_device\"").contains("\"direct\":false");
        assertThat(values(argv, "-blockdev").get(1)).startsWith("{\"driver\":\"raw\"");
        assertThat(values(argv, "-device")).containsExactly("virtio-scsi-pci,id=ferry.scsi", "scsi-hd,drive=d1,id=d1,bus=ferry.scsi.0");
    }

    @Test
    void nics_pairANetdevWithAVirtioNetDevice() {
        List<String> argv = argv(spec(
                new DeviceSpec.Nic("net0", "52:54:00:00:00:01", new DeviceSpec.UserNet()),
                new DeviceSpec.Nic("net1", "52:54:00:00:00:02", new DeviceSpec.SocketNet(false, "10.0.0.1:4444")),
                new DeviceSpec.Nic("net2", "52:54:00:00:00:03", new DeviceSpec.TapNet("br0", "fytap"))));

        assertThat(values(argv, "-netdev")).containsExactly("user,id=net0", "socket,id=net1,connect=10.0.0.1:4444",
                "tap,id=net2,ifname=fytap,script=no,downscript=no");
        assertThat(values(argv, "-device")).containsExactly(
                "virtio-net-pci,netdev=net0,id=net0,mac=52:54:00:00:00:01",
                "virtio-net-pci,netdev=net1,id=net1,mac=52:54:00:00:00:02",
                "virtio-net-pci,netdev=net2,id=net2,mac=52:54:00:00:00:03");
    }

    @Test
    void swtpm_isReachedThroughTheRunDirSocket() {
        List<String> argv = argv(spec(new DeviceSpec.Tpm("tpm0", DeviceSpec.TpmModel.TPM_TIS, new DeviceSpec.Swtpm(null))));

        assertThat(values(argv, "-chardev")).contains("socket,id=chr-tpm0,path=/run/ferry/web1/swtpm.sock");
        assertThat(values(argv, "-tpmdev")).containsExactly("emulator,id=tpm0,chardev=chr-tpm0");
        assertThat(values(argv, "-device")).containsExactly("tpm-tis,tpmdev=tpm0,id=tpm0");
    }

    @Test
    void externalTpm_usesItsOwnSocket() {
        List<String> argv = argv(spec(new DeviceSpec.Tpm("tpm0", DeviceSpec.TpmModel.TPM_CRB,
                new DeviceSpec.ExternalTpm(Path.of("/run/vtpm/ctrl.sock")))));

        assertThat(values(argv, "-chardev")).contains("socket,id=chr-tpm0,path=/run/vtpm/ctrl.sock");
        assertThat(values(argv, "-device")).containsExactly("tpm-crb,tpmdev=tpm0,id=tpm0");
    }

    @Test
    void usb_devicesShareOneXhciController() {
        List<String> argv = argv(spec(
                new DeviceSpec.Usb("tab0", new DeviceSpec.EmulatedUsb("usb-tablet")),
                new DeviceSpec.Usb("key0", new DeviceSpec.HostUsbById("0x1234", "0x5678")),
                new DeviceSpec.Usb("cam0", new DeviceSpec.HostUsbByPort(1, 4))));

        assertThat(values(argv, "-device")).containsExactly(
                "qemu-xhci,id=ferry.xhci",
                "usb-tablet,id=tab0,bus=ferry.xhci.0",
                "usb-host,id=key0,bus=ferry.xhci.0,vendorid=0x1234,productid=0x5678",
                "usb-host,id=cam0,bus=ferry.xhci.0,hostbus=1,hostaddr=4");
    }

    @Test
    void pci_emulatedOrVfio_andExternalDevicesAddNothing() {
        List<String> argv = argv(spec(
                new DeviceSpec.Pci("rng0", new DeviceSpec.EmulatedPci("virtio-rng-pci")),
                new DeviceSpec.Pci("gpu0", new DeviceSpec.HostPci("0000:03:00.0", DeviceSpec.PciMigration.REFUSE)),
                new DeviceSpec.External("fpga0", "fpga", Map.of("slot", "2"))));

        assertThat(values(argv, "-device")).containsExactly("virtio-rng-pci,id=rng0", "vfio-pci,host=0000:03:00.0,id=gpu0");
        assertThat(String.join(" ", argv)).doesNotContain("fpga");
    }
}
