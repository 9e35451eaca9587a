package dev.ferry.vm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.vm.DeviceSpec.DiskBus;
import dev.ferry.vm.DeviceSpec.DiskCache;
import dev.ferry.vm.DeviceSpec.DiskFormat;
import dev.ferry.vm.DeviceSpec.PciMigration;
import dev.ferry.vm.DeviceSpec.TpmModel;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/** Reads one entry of {@code devices:}; see {@link VmSpecParser} for the whole spec. */
final class DeviceParser {
    /** QEMU ids must start with a letter; commas and dots would break QEMU's option syntax and our node names. */
    static final Pattern ID = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    private static final String ID_RULE = "use a lower-case letter followed by up to 31 of a-z, 0-9, '_' or '-'";
    private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
    private static final Pattern SOCKET_ADDRESS = Pattern.compile("(\\[[0-9a-fA-F:.]+]|[A-Za-z0-9.-]*):([0-9]{1,5})");
    private static final Pattern NETDEV_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,14}");
    private static final String NETDEV_RULE = "use up to 15 of A-Z, a-z, 0-9, '_', '.', '-', starting with a letter or digit";
    private static final Pattern QEMU_MODEL = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final String MODEL_RULE = "give a QEMU device name such as usb-tablet or virtio-rng-pci";
    private static final Pattern USB_ID = Pattern.compile("0x[0-9a-fA-F]{4}");
    private static final Pattern PCI_ADDRESS = Pattern.compile("([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");

    private static final List<String> TYPES = List.of("disk", "nic", "tpm", "usb", "pci", "external");

    private final Path baseDir;
    private final HostFacts host;
    private final String vmName;
    private final UUID vmUuid;

    DeviceParser(Path baseDir, HostFacts host, String vmName, UUID vmUuid) {
        this.baseDir = baseDir;
        this.host = host;
        this.vmName = vmName;
        this.vmUuid = vmUuid;
    }

    DeviceSpec parse(JsonNode raw, String path) throws SpecException {
        if (raw == null || !raw.isObject()) {
            throw new SpecException(path, "expected a mapping with type and id, got " + SpecNode.kind(raw));
        }
        JsonNode typeNode = raw.get("type");
        if (typeNode == null || typeNode.isNull()) {
            throw new SpecException(path + ".type", "missing; use one of " + String.join(", ", TYPES));
        }
        String type = typeNode.isTextual() ? typeNode.textValue() : typeNode.asText();
        return switch (type) {
            case "disk" -> disk(new SpecNode(raw, path, "a disk",
                    List.of("type", "id", "path", "format", "shared", "bus", "cache")));
            case "nic" -> nic(new SpecNode(raw, path, "a nic",
                    List.of("type", "id", "backend", "mac", "listen", "connect", "bridge", "ifname")));
            case "tpm" -> tpm(new SpecNode(raw, path, "a tpm",
                    List.of("type", "id", "model", "backend", "encryptionKeyFile", "socket")));
            case "usb" -> usb(new SpecNode(raw, path, "a usb device", List.of("type", "id", "model", "host")));
            case "pci" -> pci(new SpecNode(raw, path, "a pci device", List.of("type", "id", "model", "host", "migration")));
            case "external" -> external(new SpecNode(raw, path, "an external device", List.of("type", "id", "kind", "params")));
            default -> throw new SpecException(path + ".type",
                    "unknown device type '" + type + "'; use one of " + String.join(", ", TYPES));
        };
    }

    private static String id(SpecNode n) throws SpecException {
        n.requiredText("id", "give the device an id unique within the VM");
        return n.matching("id", null, ID, ID_RULE);
    }

    private DeviceSpec.Disk disk(SpecNode n) throws SpecException {
        String id = id(n);
        Path path = n.path("path", baseDir);
        if (path == null) {
            throw new SpecException(n.child("path"), "missing; give the image file or block device");
        }
        requireExists(n, "path", path, "create the image (qemu-img create) or fix the path");
        DiskFormat format = n.choice("format", DiskFormat.class, null);
        boolean shared = n.bool("shared", false);
        DiskBus bus = n.choice("bus", DiskBus.class, DiskBus.VIRTIO);
        DiskCache cache = n.choice("cache", DiskCache.class, DiskCache.NONE);
        return new DeviceSpec.Disk(id, path, format, shared, bus, cache, host.isBlockDevice(path));
    }

    private DeviceSpec.Nic nic(SpecNode n) throws SpecException {
        String id = id(n);
        String backend = n.text("backend", null);
        if (backend == null) {
            throw new SpecException(n.child("backend"), "missing; use one of user, socket, tap");
        }
        String mac = n.matching("mac", null, Pattern.compile("(?i)" + MAC.pattern()), "write six hex pairs such as 52:54:00:12:34:56");
        if (mac == null) {
            mac = generatedMac(id);
        }
        mac = mac.toLowerCase(Locale.ROOT);
        if ((HexFormat.fromHexDigits(mac.substring(0, 2)) & 1) != 0) {
            throw new SpecException(n.child("mac"), "'" + mac + "' is a multicast address; the first byte must be even (52:54:00:... is QEMU's range)");
        }
        DeviceSpec.NetBackend net = switch (backend) {
            case "user" -> {
                onlyFor(n, "socket", "listen", "connect");
                onlyFor(n, "tap", "bridge", "ifname");
                yield new DeviceSpec.UserNet();
            }
            case "socket" -> {
                onlyFor(n, "tap", "bridge", "ifname");
                yield socketNet(n);
            }
            case "tap" -> {
                onlyFor(n, "socket", "listen", "connect");
                yield tapNet(n, id);
            }
            default -> throw new SpecException(n.child("backend"), "'" + backend + "' is not one of user, socket, tap");
        };
        return new DeviceSpec.Nic(id, mac, net);
    }

    private static DeviceSpec.SocketNet socketNet(SpecNode n) throws SpecException {
        if (n.has("listen") == n.has("connect")) {
            throw new SpecException(n.child("listen"), "a socket nic needs exactly one of listen or connect (host:port)");
        }
        boolean listen = n.has("listen");
        String key = listen ? "listen" : "connect";
        String address = n.matching(key, null, SOCKET_ADDRESS, "write host:port, such as 127.0.0.1:4444");
        var m = SOCKET_ADDRESS.matcher(address);
        m.matches();
        int port = Integer.parseInt(m.group(2));
        if (port < 1 || port > 65535) {
            throw new SpecException(n.child(key), "port " + port + " is out of range; use 1..65535");
        }
        if (!listen && m.group(1).isEmpty()) {
            throw new SpecException(n.child(key), "'" + address + "' has no host; write host:port");
        }
        return new DeviceSpec.SocketNet(listen, address);
    }

    private DeviceSpec.TapNet tapNet(SpecNode n, String id) throws SpecException {
        String bridge = n.requiredText("bridge", "give the bridge the tap joins, such as br0");
        n.matching("bridge", null, NETDEV_NAME, NETDEV_RULE);
        if (!host.bridgeExists(bridge)) {
            throw new SpecException(n.child("bridge"), "bridge '" + bridge + "' does not exist on this host; create it (ip link add "
                    + bridge + " type bridge) or name an existing one");
        }
        String ifname = n.matching("ifname", null, NETDEV_NAME, NETDEV_RULE);
        return new DeviceSpec.TapNet(bridge, ifname != null ? ifname : "fy" + digest(vmName + "/" + id).substring(0, 10));
    }

    private DeviceSpec.Tpm tpm(SpecNode n) throws SpecException {
        String id = id(n);
        TpmModel model = n.choice("model", TpmModel.class, TpmModel.TPM_TIS);
        String backend = n.text("backend", "swtpm");
        DeviceSpec.TpmBackend b = switch (backend) {
            case "swtpm" -> {
                onlyFor(n, "external", "socket");
                Path key = n.path("encryptionKeyFile", baseDir);
                if (key != null) {
                    requireExists(n, "encryptionKeyFile", key, "create the key file or fix the path");
                    noComma(n, "encryptionKeyFile", key, "swtpm");
                }
                yield new DeviceSpec.Swtpm(key);
            }
            case "external" -> {
                onlyFor(n, "swtpm", "encryptionKeyFile");
                Path socket = n.path("socket", baseDir);
                if (socket == null) {
                    throw new SpecException(n.child("socket"), "missing; an external tpm needs the control socket of its emulator");
                }
                yield new DeviceSpec.ExternalTpm(socket);
            }
            default -> throw new SpecException(n.child("backend"), "'" + backend + "' is not one of swtpm, external");
        };
        return new DeviceSpec.Tpm(id, model, b);
    }

    private static DeviceSpec.Usb usb(SpecNode n) throws SpecException {
        String id = id(n);
        exactlyOne(n, "a usb device", "model", "host");
        if (n.has("model")) {
            return new DeviceSpec.Usb(id, new DeviceSpec.EmulatedUsb(n.matching("model", null, QEMU_MODEL, MODEL_RULE)));
        }
        SpecNode h = n.object("host", "a host usb device", List.of("vendor", "product", "bus", "addr"));
        if (h.has("vendor") || h.has("product")) {
            if (h.has("bus") || h.has("addr")) {
                throw new SpecException(h.path(), "give either vendor and product, or bus and addr, not both");
            }
            String rule = "write it quoted as 0x and four hex digits, such as \"0x1234\"";
            String vendor = h.requiredText("vendor", rule);
            h.matching("vendor", null, USB_ID, rule);
            String product = h.requiredText("product", rule);
            h.matching("product", null, USB_ID, rule);
            return new DeviceSpec.Usb(id, new DeviceSpec.HostUsbById(vendor.toLowerCase(Locale.ROOT), product.toLowerCase(Locale.ROOT)));
        }
        if (!h.has("bus") || !h.has("addr")) {
            throw new SpecException(h.path(), "give vendor and product (\"0x1234\"), or bus and addr (numbers from lsusb)");
        }
        return new DeviceSpec.Usb(id, new DeviceSpec.HostUsbByPort(h.integer("bus", 0, 1, 255), h.integer("addr", 0, 1, 127)));
    }

    private static DeviceSpec.Pci pci(SpecNode n) throws SpecException {
        String id = id(n);
        exactlyOne(n, "a pci device", "model", "host");
        if (n.has("model")) {
            onlyFor(n, "passthrough (host:)", "migration");
            return new DeviceSpec.Pci(id, new DeviceSpec.EmulatedPci(n.matching("model", null, QEMU_MODEL, MODEL_RULE)));
        }
        String address = n.matching("host", null, PCI_ADDRESS, "write the host's PCI address, such as 0000:03:00.0").toLowerCase(Locale.ROOT);
        if (address.length() == 7) {
            address = "0000:" + address;
        }
        return new DeviceSpec.Pci(id, new DeviceSpec.HostPci(address, n.choice("migration", PciMigration.class, PciMigration.REFUSE)));
    }

    private static DeviceSpec.External external(SpecNode n) throws SpecException {
        String id = id(n);
        n.requiredText("kind", "say what the device is (the tool knows what it means), such as fpga");
        String kind = n.matching("kind", null, ID, ID_RULE);
        Map<String, String> params = n.scalarMap("params");
        return new DeviceSpec.External(id, kind, params);
    }

    private void requireExists(SpecNode n, String key, Path path, String fix) throws SpecException {
        if (!host.exists(path)) {
            throw new SpecException(n.child(key), path + " does not exist; " + fix);
        }
    }

    static void noComma(SpecNode n, String key, Path path, String consumer) throws SpecException {
        if (path.toString().indexOf(',') >= 0) {
            throw new SpecException(n.child(key), path + " contains ','; " + consumer + " cannot take such a path, rename it");
        }
    }

    private static void onlyFor(SpecNode n, String variant, String... keys) throws SpecException {
        for (String key : keys) {
            if (n.has(key)) {
                throw new SpecException(n.child(key), "only for " + variant + "; remove it or change the variant");
            }
        }
    }

    private static void exactlyOne(SpecNode n, String what, String a, String b) throws SpecException {
        if (n.has(a) == n.has(b)) {
            throw new SpecException(n.child(a), what + " needs exactly one of " + a + " (emulated) or " + b + " (passthrough)");
        }
    }

    /** Stable per VM and device, so the guest sees the same MAC after a restart or a migration. */
    private String generatedMac(String id) {
        String h = digest(vmUuid + "/" + id);
        return "52:54:00:" + h.substring(0, 2) + ":" + h.substring(2, 4) + ":" + h.substring(4, 6);
    }

    private static String digest(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
