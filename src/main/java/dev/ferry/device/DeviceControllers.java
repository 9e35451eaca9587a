package dev.ferry.device;

import dev.ferry.device.disk.DiskImage;
import dev.ferry.device.disk.ImageStore;
import dev.ferry.device.disk.IncomingImages;
import dev.ferry.device.disk.LocalDiskController;
import dev.ferry.vm.DeviceSpec.Disk;
import dev.ferry.vm.DeviceSpec.EmulatedPci;
import dev.ferry.vm.DeviceSpec.EmulatedUsb;
import dev.ferry.vm.DeviceSpec.External;
import dev.ferry.vm.DeviceSpec.ExternalTpm;
import dev.ferry.vm.DeviceSpec.HostPci;
import dev.ferry.vm.DeviceSpec.Nic;
import dev.ferry.vm.DeviceSpec.Pci;
import dev.ferry.vm.DeviceSpec.PciMigration;
import dev.ferry.vm.DeviceSpec.Swtpm;
import dev.ferry.vm.DeviceSpec.TapNet;
import dev.ferry.vm.DeviceSpec.Tpm;
import dev.ferry.vm.DeviceSpec.Usb;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.VmSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Chooses the controller for each device of a VM, and on the destination its {@link IncomingDevice}
 * companion: the one place that knows device types. A configured tool takes over any device that
 * Ferry cannot move in-band itself.
 */
public final class DeviceControllers {

    /** One device, the name it goes by in reports, and its controller. */
    public record Bound(DeviceRef ref, DeviceSpec spec, DeviceController controller) {}

    /** One device of an incoming VM and what the destination does for it. */
    public record Incoming(DeviceRef ref, IncomingDevice device) {}

    private final Map<String, ToolSpec> tools;
    private final ToolRunner runner;
    private final Duration copyTimeout;

    /** @param tools the agent's migration tools by device type ({@code tpm}, {@code usb}, ...) or external kind */
    public DeviceControllers(Map<String, ToolSpec> tools, ToolRunner runner) {
        this(tools, runner, Duration.ofMinutes(30));
    }

    /** @param copyTimeout how long a local disk's copy may take to catch up with the guest */
    public DeviceControllers(Map<String, ToolSpec> tools, ToolRunner runner, Duration copyTimeout) {
        this.tools = Map.copyOf(tools);
        this.runner = runner;
        this.copyTimeout = copyTimeout;
    }

    /** The controllers for every device of {@code spec}, in spec order. */
    public List<Bound> bind(VmSpec spec, GuestControl guest) {
        List<Bound> bound = new ArrayList<>();
        for (DeviceSpec device : spec.devices()) {
            bound.add(new Bound(ref(device), device, controller(device, guest)));
        }
        return bound;
    }

    /**
     * The destination's companions for every device of {@code spec} (the spec as the source sent
     * it), in spec order.
     *
     * @param sourceDisks the source's images of the disks not shared, by device id
     * @param store       where this host keeps the copies of incoming disks
     */
    public List<Incoming> bindIncoming(VmSpec spec, Map<String, DiskImage> sourceDisks, ImageStore store) {
        IncomingImages copies = new IncomingImages(store, spec.name());
        List<Incoming> bound = new ArrayList<>();
        for (DeviceSpec device : spec.devices()) {
            bound.add(new Incoming(ref(device), incoming(device, sourceDisks, copies)));
        }
        return bound;
    }

    private IncomingDevice incoming(DeviceSpec device, Map<String, DiskImage> sourceDisks, IncomingImages copies) {
        if (!(device instanceof Disk d) || d.shared()) {
            return IncomingDevice.NONE;
        }
        // The same choice as disk(): an operator's tool for disks fills what the mirror would.
        boolean toolFills = tools.containsKey("disk");
        if (d.blockDevice()) {
            return toolFills ? copies.blockDevice(d) : IncomingDevice.NONE;
        }
        return copies.image(d, sourceDisks.get(d.id()), toolFills);
    }

    /** How {@code device} is named in reports: its id, type and variant. */
    public static DeviceRef ref(DeviceSpec device) {
        return new DeviceRef(device.id(), device.type(), variant(device));
    }

    private DeviceController controller(DeviceSpec device, GuestControl guest) {
        if (device instanceof Disk d) {
            return disk(d, guest);
        } else if (device instanceof Nic n) {
            return new AnnouncingNicController(n.id(), guest);
        } else if (device instanceof Tpm t) {
            return tpm(t);
        } else if (device instanceof Usb u) {
            return u.source() instanceof EmulatedUsb ? InBandController.INSTANCE
                    : toolOr("usb", "host USB passthrough cannot migrate; configure a migration tool for usb");
        } else if (device instanceof Pci p) {
            return pci(p, guest);
        } else if (device instanceof External e) {
            return external(e);
        }
        throw new IllegalStateException("Invalid device type: " + device.type());
    }

    private DeviceController disk(Disk d, GuestControl guest) {
        if (d.shared()) {
            return InBandController.INSTANCE;
        }
        if (d.blockDevice()) {
            return toolOr("disk", "host block device " + d.path() + " is not marked shared; mark it 'shared: true'"
                    + " if the destination sees the same device, or configure a migration tool for disk");
        }
        // An operator's tool for disks wins: they chose to move images their own way.
        ToolSpec tool = tools.get("disk");
        return tool != null ? new ExternalToolController(runner, tool) : new LocalDiskController(d, guest, copyTimeout);
    }

    private DeviceController tpm(Tpm t) {
        if (t.backend() instanceof ExternalTpm) {
            return toolOr("tpm", "no migration tool is configured for tpm");
        }
        Swtpm swtpm = (Swtpm) t.backend();
        if (swtpm.encryptionKeyFile() != null && tools.containsKey("tpm")) {
            // The tool carries the host key; the state itself still travels in QEMU's stream.
            return new ExternalToolController(runner, tools.get("tpm"));
        }
        return InBandController.INSTANCE;
    }

    private DeviceController pci(Pci p, GuestControl guest) {
        if (p.source() instanceof EmulatedPci) {
            return InBandController.INSTANCE;
        }
        HostPci host = (HostPci) p.source();
        if (host.migration() == PciMigration.UNPLUG_REPLUG) {
            return new UnplugReplugController(p, guest);
        }
        return toolOr("pci", "passthrough PCI device " + host.address() + " cannot migrate; set its policy to"
                + " 'migration: unplug-replug' or configure a migration tool for pci");
    }

    private DeviceController external(External e) {
        ToolSpec tool = tools.getOrDefault(e.kind(), tools.get("external"));
        if (tool == null) {
            return new RefusingController("no migration tool is configured for external devices of kind '"
                    + e.kind() + "'; add one under tools in the agent config");
        }
        return new ExternalToolController(runner, tool);
    }

    private DeviceController toolOr(String type, String refusal) {
        ToolSpec tool = tools.get(type);
        return tool == null ? new RefusingController(refusal) : new ExternalToolController(runner, tool);
    }

    private static String variant(DeviceSpec device) {
        if (device instanceof Disk d) {
            return d.blockDevice() ? "block device" : d.shared() ? "shared" : "local";
        } else if (device instanceof Nic n) {
            return n.backend() instanceof TapNet ? "tap" : n.backend() instanceof DeviceSpec.SocketNet ? "socket" : "user";
        } else if (device instanceof Tpm t) {
            return t.backend() instanceof ExternalTpm ? "external" : "swtpm";
        } else if (device instanceof Usb u) {
            return u.source() instanceof EmulatedUsb ? "emulated" : "passthrough";
        } else if (device instanceof Pci p) {
            return p.source() instanceof EmulatedPci ? "emulated" : "passthrough";
        } else if (device instanceof External e) {
            return e.kind();
        }
        throw new IllegalStateException("Invalid device type: " + device.type());
    }
}
