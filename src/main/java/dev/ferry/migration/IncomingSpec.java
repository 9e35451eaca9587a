package dev.ferry.migration;

import dev.ferry.device.DeviceControllers;
import dev.ferry.device.disk.DiskImage;
import dev.ferry.vm.HostFacts;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** The destination's reading of an incoming VM's spec: as the source runs it, and as this host will. */
final class IncomingSpec {

    private IncomingSpec() {}

    /**
     * The spec as the source runs it, checked against this host, except for the disks not shared:
     * those are what the source says they are (image files or block devices), and their companions
     * check what this host has in their place.
     */
    static VmSpec fromSource(PeerProtocol.Request req) throws SpecException {
        Set<Path> sourceImages = req.localDisks().values().stream().map(DiskImage::path).collect(Collectors.toSet());
        Set<Path> sourceDevices = Set.copyOf(req.localBlockDevices().values());
        HostFacts here = HostFacts.system();
        HostFacts withSourceImages = new HostFacts() {
            @Override
            public boolean exists(Path path) {
                return sourceImages.contains(path) || sourceDevices.contains(path) || here.exists(path);
            }

            @Override
            public boolean isBlockDevice(Path path) {
                return sourceDevices.contains(path) || !sourceImages.contains(path) && here.isBlockDevice(path);
            }

            @Override
            public boolean bridgeExists(String bridge) {
                return here.bridgeExists(bridge);
            }

            @Override
            public int cpuCount() {
                return here.cpuCount();
            }
        };
        return VmSpecParser.parse(req.spec(), Path.of("/"), withSourceImages);
    }


    /** The spec as this host runs it: each device placed by its companion (a disk's copy lives here). */
    static VmSpec placed(VmSpec source, List<DeviceControllers.Incoming> devices) {
        VmSpec spec = source;
        for (DeviceControllers.Incoming d : devices) {
            spec = d.device().place(spec);
        }
        return spec;
    }
}
