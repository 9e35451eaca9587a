package dev.ferry.vm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

/** Writes a {@link VmSpec} back as the YAML {@link VmSpecParser} reads, with every default spelled out. */
final class SpecYaml {
    /** Strings stay quoted: YAML would read an unquoted 0000:03:00.0 or 52:54:00:12:34:56 as a number. */
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .build());

    private SpecYaml() {}

    static String write(VmSpec spec) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("name", spec.name());
        root.put("uuid", spec.uuid().toString());
        root.put("memoryMiB", spec.memoryMiB());
        root.put("vcpus", spec.vcpus());
        root.put("machine", spec.machine());
        if (spec.kernelBoot() != null) {
            VmSpec.KernelBoot b = spec.kernelBoot();
            root.put("kernel", b.kernel().toString());
            if (b.initrd() != null) {
                root.put("initrd", b.initrd().toString());
            }
            if (b.cmdline() != null) {
                root.put("cmdline", b.cmdline());
            }
        }
        var devices = root.putArray("devices");
        for (DeviceSpec d : spec.devices()) {
            ObjectNode n = devices.addObject();
            n.put("type", d.type());
            n.put("id", d.id());
            device(d, n);
        }
        try {
            return YAML.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("vm '" + spec.name() + "': cannot write its spec as YAML", e);
        }
    }

    private static void device(DeviceSpec d, ObjectNode n) {
        if (d instanceof DeviceSpec.Disk disk) {
            n.put("path", disk.path().toString());
            n.put("format", disk.format().wire());
            n.put("shared", disk.shared());
            n.put("bus", disk.bus().wire());
            n.put("cache", disk.cache().wire());
        } else if (d instanceof DeviceSpec.Nic nic) {
            nic(nic, n);
        } else if (d instanceof DeviceSpec.Tpm tpm) {
            n.put("model", tpm.model().wire());
            if (tpm.backend() instanceof DeviceSpec.Swtpm s) {
                n.put("backend", "swtpm");
                if (s.encryptionKeyFile() != null) {
                    n.put("encryptionKeyFile", s.encryptionKeyFile().toString());
                }
            } else if (tpm.backend() instanceof DeviceSpec.ExternalTpm e) {
                n.put("backend", "external");
                n.put("socket", e.socket().toString());
            }
        } else if (d instanceof DeviceSpec.Usb usb) {
            usb(usb, n);
        } else if (d instanceof DeviceSpec.Pci pci) {
            if (pci.source() instanceof DeviceSpec.EmulatedPci e) {
                n.put("model", e.model());
            } else if (pci.source() instanceof DeviceSpec.HostPci h) {
                n.put("host", h.address());
                n.put("migration", h.migration().wire());
            }
        } else if (d instanceof DeviceSpec.External ext) {
            n.put("kind", ext.kind());
            if (!ext.params().isEmpty()) {
                ObjectNode p = n.putObject("params");
                ext.params().forEach(p::put);
            }
        } else {
            throw new IllegalStateException("Invalid device type: " + d.getClass().getName());
        }
    }

    private static void nic(DeviceSpec.Nic nic, ObjectNode n) {
        if (nic.backend() instanceof DeviceSpec.UserNet) {
            n.put("backend", "user");
        } else if (nic.backend() instanceof DeviceSpec.SocketNet s) {
            n.put("backend", "socket");
            n.put(s.listen() ? "listen" : "connect", s.address());
        } else if (nic.backend() instanceof DeviceSpec.TapNet t) {
            n.put("backend", "tap");
            n.put("bridge", t.bridge());
            n.put("ifname", t.ifname());
        }
        n.put("mac", nic.mac());
    }

    private static void usb(DeviceSpec.Usb usb, ObjectNode n) {
        if (usb.source() instanceof DeviceSpec.EmulatedUsb e) {
            n.put("model", e.model());
        } else if (usb.source() instanceof DeviceSpec.HostUsbById h) {
            ObjectNode host = n.putObject("host");
            host.put("vendor", h.vendor());
            host.put("product", h.product());
        } else if (usb.source() instanceof DeviceSpec.HostUsbByPort h) {
            ObjectNode host = n.putObject("host");
            host.put("bus", h.bus());
            host.put("addr", h.addr());
        }
    }
}
