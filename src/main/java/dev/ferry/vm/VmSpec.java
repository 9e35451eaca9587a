package dev.ferry.vm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * A VM's definition, parsed and validated by {@link VmSpecParser}: paths are absolute, defaults
 * are filled in, and generated values (the uuid, NIC MAC addresses, tap names) are set, so that
 * {@link #toYaml()} stores exactly what the VM runs with and a migration carries the same identity.
 *
 * @param kernelBoot direct kernel boot, or null to boot from firmware
 */
public record VmSpec(String name, UUID uuid, int memoryMiB, int vcpus, String machine,
                     KernelBoot kernelBoot, List<DeviceSpec> devices) {

    public static final String DEFAULT_MACHINE = "q35";

    public VmSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(machine, "machine");
        devices = List.copyOf(devices);
    }

    /**
     * Boots a kernel directly instead of firmware; {@code initrd} and {@code cmdline} may be null.
     */
    public record KernelBoot(Path kernel, Path initrd, String cmdline) {
        public KernelBoot {
            Objects.requireNonNull(kernel, "kernel");
        }
    }

    /** The normalized spec as YAML; parsing it again (with the same host files) gives an equal spec. */
    public String toYaml() {
        return SpecYaml.write(this);
    }

    public Optional<DeviceSpec> device(String id) {
        return devices.stream().filter(d -> d.id().equals(id)).findFirst();
    }

    /** The devices of one type, in spec order. */
    public <T extends DeviceSpec> List<T> devices(Class<T> type) {
        return devices.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /**
     * This spec with disk {@code id} kept in the image file {@code path} instead: how a destination
     * runs a VM whose disk it holds a copy of. Everything else, the disk's format included, stays.
     */
    public VmSpec withDisk(String id, Path path) {
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException("vm '" + name + "': disk '" + id + "' must move to an absolute path, not "
                    + path);
        }
        List<DeviceSpec> moved = new ArrayList<>(devices.size());
        boolean found = false;
        for (DeviceSpec d : devices) {
            if (d instanceof DeviceSpec.Disk disk && disk.id().equals(id)) {
                moved.add(new DeviceSpec.Disk(id, path, disk.format(), disk.shared(), disk.bus(), disk.cache(), false));
                found = true;
            } else {
                moved.add(d);
            }
        }
        if (!found) {
            throw new IllegalArgumentException("vm '" + name + "' has no disk '" + id + "'");
        }
        return new VmSpec(name, uuid, memoryMiB, vcpus, machine, kernelBoot, moved);
    }
}
