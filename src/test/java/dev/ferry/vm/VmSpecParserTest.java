package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmSpecParserTest {
    @TempDir
    Path dir;
    final FakeHostFacts host = new FakeHostFacts();

    @BeforeEach
    void files() throws Exception {
        for (String f : List.of("data.qcow2", "bzImage", "initrd.img", "tpm.key")) {
            Files.writeString(dir.resolve(f), "x");
        }
        host.bridges.add("br0");
    }

    VmSpec parse(String yaml) throws SpecException {
        return VmSpecParser.parse(yaml, dir, host);
    }

    static final String MINIMAL = "name: web1\nmemoryMiB: 256\n";

    static final String FULL = """
            name: web1
            uuid: 6f1c0a3e-8d2b-4c55-9e71-0123456789ab
            memoryMiB: 512
            vcpus: 2
            machine: pc-q35-7.2
            kernel: bzImage
            initrd: initrd.img
            cmdline: "console=ttyS0 quiet"
            devices:
              - {type: disk, id: data0, path: data.qcow2, format: qcow2, shared: true, bus: scsi, cache: writeback}
              - {type: nic, id: net0, backend: user}
              - {type: nic, id: net1, backend: socket, listen: ":4444", mac: "52:54:00:AA:bb:cc"}
              - {type: nic, id: net2, backend: tap, bridge: br0}
              - {type: tpm, id: tpm0, model: tpm-crb, backend: swtpm, encryptionKeyFile: tpm.key}
              - {type: usb, id: tab0, model: usb-tablet}
              - {type: usb, id: key0, host: {vendor: "0x1A2b", product: "0x5678"}}
              - {type: usb, id: cam0, host: {bus: 1, addr: 4}}
              - {type: pci, id: rng0, model: virtio-rng-pci}
              - {type: pci, id: gpu0, host: "03:00.0", migration: unplug-replug}
              - {type: external, id: fpga0, kind: fpga, params: {slot: 2, image: "x.bit", secure: true}}
            """;

    @Test
    void minimalSpec_getsDefaultsAndAGeneratedUuid() throws Exception {
        VmSpec spec = parse(MINIMAL);

        assertThat(spec.name()).isEqualTo("web1");
        assertThat(spec.memoryMiB()).isEqualTo(256);
        assertThat(spec.vcpus()).isEqualTo(1);
        assertThat(spec.machine()).isEqualTo("q35");
        assertThat(spec.kernelBoot()).isNull();
        assertThat(spec.devices()).isEmpty();
        assertThat(spec.uuid()).isNotNull().isNotEqualTo(parse(MINIMAL).uuid());
    }

    @Test
    void fullSpec_becomesTypedDevicesWithResolvedPaths() throws Exception {
        VmSpec spec = parse(FULL);

        assertThat(spec.uuid()).isEqualTo(UUID.fromString("6f1c0a3e-8d2b-4c55-9e71-0123456789ab"));
        assertThat(spec.kernelBoot()).isEqualTo(new VmSpec.KernelBoot(dir.resolve("bzImage"), dir.resolve("initrd.img"), "console=ttyS0 quiet"));
        assertThat(spec.devices()).hasSize(11);
        assertThat(spec.device("data0")).contains(new DeviceSpec.Disk("data0", dir.resolve("data.qcow2"),
                DeviceSpec.DiskFormat.QCOW2, true, DeviceSpec.DiskBus.SCSI, DeviceSpec.DiskCache.WRITEBACK, false));
        assertThat(spec.device("net1")).contains(new DeviceSpec.Nic("net1", "52:54:00:aa:bb:cc", new DeviceSpec.SocketNet(true, ":4444")));
        assertThat(spec.device("tpm0")).contains(new DeviceSpec.Tpm("tpm0", DeviceSpec.TpmModel.TPM_CRB, new DeviceSpec.Swtpm(dir.resolve("tpm.key"))));
        assertThat(spec.device("key0")).contains(new DeviceSpec.Usb("key0", new DeviceSpec.HostUsbById("0x1a2b", "0x5678")));
        assertThat(spec.device("cam0")).contains(new DeviceSpec.Usb("cam0", new DeviceSpec.HostUsbByPort(1, 4)));
        assertThat(spec.device("gpu0")).contains(new DeviceSpec.Pci("gpu0", new DeviceSpec.HostPci("0000:03:00.0", DeviceSpec.PciMigration.UNPLUG_REPLUG)));
        assertThat(spec.device("fpga0")).contains(new DeviceSpec.External("fpga0", "fpga", Map.of("slot", "2", "image", "x.bit", "secure", "true")));
        assertThat(spec.devices(DeviceSpec.Nic.class)).extracting(DeviceSpec::id).containsExactly("net0", "net1", "net2");
    }

    @Test
    void generatedValues_areStableAndLocal() throws Exception {
        VmSpec spec = parse(FULL);
        DeviceSpec.Nic net0 = (DeviceSpec.Nic) spec.device("net0").orElseThrow();
        DeviceSpec.Nic net2 = (DeviceSpec.Nic) spec.device("net2").orElseThrow();

        assertThat(net0.mac()).matches("52:54:00(:[0-9a-f]{2}){3}").isNotEqualTo(net2.mac());
        assertThat(net0.mac()).isEqualTo(((DeviceSpec.Nic) parse(FULL).device("net0").orElseThrow()).mac());
        assertThat(((DeviceSpec.TapNet) net2.backend()).ifname()).matches("fy[0-9a-f]{10}");
    }

    @Test
    void toYaml_roundTripsToAnEqualSpec() throws Exception {
        VmSpec spec = parse(FULL);

        assertThat(parse(spec.toYaml())).isEqualTo(spec);
    }

    @Test
    void toYaml_keepsTheGeneratedUuidAndDefaults() throws Exception {
        VmSpec spec = parse(MINIMAL + "devices: [{type: nic, id: net0, backend: user}]\n");
        String yaml = spec.toYaml();

        assertThat(yaml).contains("uuid: \"" + spec.uuid() + "\"", "vcpus: 1", "machine: \"q35\"", "mac: ");
        assertThat(parse(yaml)).isEqualTo(spec);
    }

    @Test
    void withDisk_movesOnlyThatDisk_andKeepsItsSettings() throws Exception {
        VmSpec spec = parse(FULL);
        Path copy = Files.writeString(dir.resolve("copy.qcow2"), "x");

        VmSpec moved = spec.withDisk("data0", copy);

        DeviceSpec.Disk disk = (DeviceSpec.Disk) moved.device("data0").orElseThrow();
        assertThat(disk.path()).isEqualTo(copy);
        assertThat(disk).usingRecursiveComparison().ignoringFields("path")
                .isEqualTo(spec.device("data0").orElseThrow());
        assertThat(moved.devices().subList(1, moved.devices().size()))
                .isEqualTo(spec.devices().subList(1, spec.devices().size()));
        assertThat(parse(moved.toYaml())).isEqualTo(moved);
    }

    @Test
    void withDisk_namesAMissingDisk() throws Exception {
        VmSpec spec = parse(FULL);

        assertThatThrownBy(() -> spec.withDisk("net0", dir.resolve("x.raw")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("vm 'web1' has no disk 'net0'");
    }

    @Test
    void blockDevice_isRecorded() throws Exception {
        host.blockDevices.add(dir.resolve("data.qcow2"));

        VmSpec spec = parse(MINIMAL + "devices: [{type: disk, id: d, path: data.qcow2, format: raw}]\n");

        assertThat(spec.devices(DeviceSpec.Disk.class).get(0).blockDevice()).isTrue();
    }

    @Test
    void unknownRootKey_isNamedWithTheAllowedKeys() {
        assertSpecError(MINIMAL + "colour: red\n", "colour", "unknown key 'colour'", "allowed keys: name, uuid, memoryMiB");
    }

    @Test
    void unknownDeviceKey_isNamedWithTheKeysOfThatType() {
        assertSpecError(MINIMAL + "devices: [{type: disk, id: d, path: data.qcow2, format: raw, bridge: br0}]\n",
                "devices[0].bridge", "allowed keys: type, id, path, format, shared, bus, cache");
    }

    @Test
    void unknownNestedKey_isNamedWithItsFullPath() {
        assertSpecError(MINIMAL + "devices: [{type: usb, id: u, host: {vendor: '0x1234', product: '0x1234', serial: 7}}]\n",
                "devices[0].host.serial", "allowed keys: vendor, product, bus, addr");
    }

    @Test
    void memory_mustBeWithinBounds() throws Exception {
        assertSpecError("name: a\nmemoryMiB: 15\n", "memoryMiB", "use 16..1048576");
        assertSpecError("name: a\nmemoryMiB: 0\n", "memoryMiB", "use 16..1048576");
        assertSpecError("name: a\nmemoryMiB: 1048577\n", "memoryMiB", "out of range");
        assertSpecError("name: a\nmemoryMiB: 99999999999999999999\n", "memoryMiB", "out of range");
        assertSpecError("name: a\nmemoryMiB: 1.5\n", "memoryMiB", "expected a whole number");
        assertSpecError("name: a\nmemoryMiB: '256'\n", "memoryMiB", "expected a whole number");
        assertSpecError("name: a\n", "memoryMiB", "missing");
        assertThat(parse("name: a\nmemoryMiB: 16\n").memoryMiB()).isEqualTo(16);
        assertThat(parse("name: a\nmemoryMiB: 1048576\n").memoryMiB()).isEqualTo(1048576);
    }

    @Test
    void vcpus_mustBeWithinBoundsAndTheHostsCpus() throws Exception {
        assertSpecError(MINIMAL + "vcpus: 0\n", "vcpus", "use 1..64");
        assertSpecError(MINIMAL + "vcpus: 65\n", "vcpus", "use 1..64");
        host.cpus = 2;
        assertSpecError(MINIMAL + "vcpus: 3\n", "vcpus", "more than this host's 2 CPUs");
        assertThat(parse(MINIMAL + "vcpus: 2\n").vcpus()).isEqualTo(2);
    }

    @Test
    void name_andUuid_mustBeWellFormed() {
        assertSpecError("name: Web_1\nmemoryMiB: 256\n", "name", "'Web_1' is not valid");
        assertSpecError("name: " + "a".repeat(64) + "\nmemoryMiB: 256\n", "name", "is not valid");
        assertSpecError("memoryMiB: 256\n", "name", "missing");
        assertSpecError("name: 7\nmemoryMiB: 256\n", "name", "expected text, got a number");
        assertSpecError(MINIMAL + "uuid: 1-2-3-4-5\n", "uuid", "is not a UUID");
    }

    @Test
    void duplicateDeviceIds_nameBothDevices() {
        assertSpecError(MINIMAL + """
                devices:
                  - {type: disk, id: data0, path: data.qcow2, format: qcow2}
                  - {type: nic, id: data0, backend: user}
                """, "devices[1].id", "duplicate id 'data0' (also devices[0]); give each device a unique id");
    }

    @Test
    void deviceIds_mustStartWithALetter() {
        assertSpecError(MINIMAL + "devices: [{type: nic, id: 0net, backend: user}]\n", "devices[0].id", "'0net' is not valid");
        assertSpecError(MINIMAL + "devices: [{type: nic, id: 'net.0', backend: user}]\n", "devices[0].id", "is not valid");
        assertSpecError(MINIMAL + "devices: [{type: nic, backend: user}]\n", "devices[0].id", "missing");
    }

    @Test
    void deviceType_mustBeKnown() {
        assertSpecError(MINIMAL + "devices: [{type: gpu, id: g}]\n", "devices[0].type", "unknown device type 'gpu'; use one of disk, nic");
        assertSpecError(MINIMAL + "devices: [{id: g}]\n", "devices[0].type", "missing");
        assertSpecError(MINIMAL + "devices: [disk]\n", "devices[0]", "expected a mapping");
        assertSpecError(MINIMAL + "devices: {type: disk}\n", "devices", "expected a list");
    }

    @Test
    void paths_mustExist() {
        assertSpecError(MINIMAL + "devices: [{type: disk, id: d, path: nope.qcow2, format: qcow2}]\n",
                "devices[0].path", dir.resolve("nope.qcow2") + " does not exist");
        assertSpecError(MINIMAL + "kernel: vmlinuz\n", "kernel", "does not exist");
        assertSpecError(MINIMAL + "kernel: bzImage\ninitrd: nope\n", "initrd", "does not exist");
        assertSpecError(MINIMAL + "devices: [{type: tpm, id: t, encryptionKeyFile: none.key}]\n",
                "devices[0].encryptionKeyFile", "does not exist");
        assertSpecError(MINIMAL + "devices: [{type: disk, id: d, path: '', format: qcow2}]\n", "devices[0].path", "empty path");
        assertSpecError(MINIMAL + "devices: [{type: disk, id: d, format: qcow2}]\n", "devices[0].path", "missing");
    }

    @Test
    void initrdAndCmdline_needAKernel() {
        assertSpecError(MINIMAL + "cmdline: quiet\n", "cmdline", "needs kernel");
        assertSpecError(MINIMAL + "initrd: initrd.img\n", "initrd", "needs kernel");
    }

    @Test
    void disk_formatBusAndCache_areChoices() {
        assertSpecError(MINIMAL + "devices: [{type: disk, id: d, path: data.qcow2}]\n", "devices[0].format", "missing; use one of qcow2, raw");
        assertSpecError(MINIMAL + "devices: [{type: disk, id: d, path: data.qcow2, format: vmdk}]\n", "devices[0].format", "'vmdk' is not one of qcow2, raw");
        assertSpecError(MINIMAL + "devices: [{type: disk, id: d, path: data.qcow2, format: raw, bus: ide}]\n", "devices[0].bus", "not one of virtio, scsi");
        assertSpecError(MINIMAL + "devices: [{type: disk, id: d, path: data.qcow2, format: raw, shared: yes please}]\n", "devices[0].shared", "expected true or false");
    }

    @Test
    void tapNic_needsAnExistingBridge() throws Exception {
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: tap, bridge: br9}]\n", "devices[0].bridge", "bridge 'br9' does not exist");
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: tap}]\n", "devices[0].bridge", "missing");
        VmSpec spec = parse(MINIMAL + "devices: [{type: nic, id: n, backend: tap, bridge: br0, ifname: tap-web1}]\n");
        assertThat(((DeviceSpec.Nic) spec.devices().get(0)).backend()).isEqualTo(new DeviceSpec.TapNet("br0", "tap-web1"));
    }

    @Test
    void nicKeys_mustFitTheBackend() {
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: user, bridge: br0}]\n", "devices[0].bridge", "only for tap");
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: tap, bridge: br0, listen: ':1'}]\n", "devices[0].listen", "only for socket");
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: socket}]\n", "devices[0].listen", "exactly one of listen or connect");
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: socket, connect: ':4444'}]\n", "devices[0].connect", "has no host");
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: socket, listen: ':99999'}]\n", "devices[0].listen", "out of range");
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: vde}]\n", "devices[0].backend", "not one of user, socket, tap");
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n}]\n", "devices[0].backend", "missing");
    }

    @Test
    void nicMac_mustBeUnicast() {
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: user, mac: '01:00:5e:00:00:01'}]\n", "devices[0].mac", "multicast");
        assertSpecError(MINIMAL + "devices: [{type: nic, id: n, backend: user, mac: '52:54:00'}]\n", "devices[0].mac", "six hex pairs");
    }

    @Test
    void tpm_keysMustFitTheBackend_andOnlyOneTpm() {
        assertSpecError(MINIMAL + "devices: [{type: tpm, id: t, backend: external}]\n", "devices[0].socket", "missing");
        assertSpecError(MINIMAL + "devices: [{type: tpm, id: t, backend: external, socket: /run/t.sock, encryptionKeyFile: tpm.key}]\n",
                "devices[0].encryptionKeyFile", "only for swtpm");
        assertSpecError(MINIMAL + "devices: [{type: tpm, id: t, model: tpm-spi}]\n", "devices[0].model", "not one of tpm-tis, tpm-crb");
        assertSpecError(MINIMAL + "devices: [{type: tpm, id: t}, {type: tpm, id: u}]\n", "devices[1]", "at most one tpm (also devices[0])");
    }

    @Test
    void usb_isEmulatedOrHost_neverBoth() {
        assertSpecError(MINIMAL + "devices: [{type: usb, id: u, model: usb-tablet, host: {bus: 1, addr: 2}}]\n", "devices[0].model", "exactly one of model");
        assertSpecError(MINIMAL + "devices: [{type: usb, id: u}]\n", "devices[0].model", "exactly one of model");
        assertSpecError(MINIMAL + "devices: [{type: usb, id: u, host: {vendor: 0x1234, product: '0x5678'}}]\n", "devices[0].host.vendor", "quote");
        assertSpecError(MINIMAL + "devices: [{type: usb, id: u, host: {vendor: '1234', product: '0x5678'}}]\n", "devices[0].host.vendor", "0x and four hex digits");
        assertSpecError(MINIMAL + "devices: [{type: usb, id: u, host: {vendor: '0x1234', bus: 1}}]\n", "devices[0].host", "not both");
        assertSpecError(MINIMAL + "devices: [{type: usb, id: u, host: {bus: 1}}]\n", "devices[0].host", "bus and addr");
        assertSpecError(MINIMAL + "devices: [{type: usb, id: u, host: '1-4'}]\n", "devices[0].host", "expected a mapping");
    }

    @Test
    void pci_migrationPolicyIsOnlyForPassthrough() {
        assertSpecError(MINIMAL + "devices: [{type: pci, id: p, model: virtio-rng-pci, migration: refuse}]\n", "devices[0].migration", "only for passthrough");
        assertSpecError(MINIMAL + "devices: [{type: pci, id: p, host: '3:0.0'}]\n", "devices[0].host", "PCI address");
        assertSpecError(MINIMAL + "devices: [{type: pci, id: p, model: 'virtio-rng-pci,addr=3'}]\n", "devices[0].model", "QEMU device name");
    }

    @Test
    void externalParams_mustBeScalars() {
        assertSpecError(MINIMAL + "devices: [{type: external, id: e, kind: fpga, params: {a: [1]}}]\n", "devices[0].params.a", "expected a text, number or boolean");
        assertSpecError(MINIMAL + "devices: [{type: external, id: e}]\n", "devices[0].kind", "missing");
    }

    @Test
    void brokenYaml_isReportedWithItsLocation() {
        assertSpecError("name: [web1\nmemoryMiB: 256\n", "spec", "not valid YAML at line");
        assertSpecError("name: a\nname: b\nmemoryMiB: 256\n", "spec", "Duplicate field 'name'");
        assertSpecError("", "spec", "empty");
        assertSpecError("- a\n- b\n", "spec", "expected a mapping");
        assertSpecError(MINIMAL + "'': 1\n", "''", "unknown key ''");
    }

    void assertSpecError(String yaml, String field, String... messageParts) {
        assertThatThrownBy(() -> parse(yaml))
                .isInstanceOf(SpecException.class)
                .satisfies(e -> assertThat(((SpecException) e).field()).isEqualTo(field))
                .message().contains(messageParts);
    }
}
