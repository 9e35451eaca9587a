package dev.ferry.migration;

import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** A {@link HostVms} in memory: the VMs of one fake host, with leases that refuse a second holder. */
final class MemoryVms implements HostVms {
    final Map<String, VmSpec> specs = new ConcurrentHashMap<>();
    final Map<String, VmState> states = new ConcurrentHashMap<>();
    final Map<String, VmHandle> handles = new ConcurrentHashMap<>();
    final Map<String, String> leases = new ConcurrentHashMap<>();
    List<String> blockers = List.of();

    /** Records {@code spec} in {@code state}, under the control of {@code handle} (which may be null). */
    MemoryVms with(VmSpec spec, VmState state, VmHandle handle) {
        specs.put(spec.name(), spec);
        states.put(spec.name(), state);
        if (handle != null) {
            handles.put(spec.name(), handle);
        }
        return this;
    }

    @Override
    public Lease lease(String vm, String job) {
        String held = leases.putIfAbsent(vm, job);
        if (held != null) {
            throw new IllegalStateException("vm '" + vm + "' is busy: " + held);
        }
        return () -> leases.remove(vm, job);
    }

    @Override
    public boolean defined(String vm) {
        return specs.containsKey(vm);
    }

    @Override
    public VmSpec spec(String vm) {
        VmSpec spec = specs.get(vm);
        if (spec == null) {
            throw new IllegalStateException("vm '" + vm + "' not found");
        }
        return spec;
    }

    @Override
    public VmState state(String vm) {
        return states.get(vm);
    }

    @Override
    public Optional<VmHandle> handle(String vm) {
        return Optional.ofNullable(handles.get(vm));
    }

    @Override
    public synchronized void move(String vm, VmState to) {
        states.get(vm).checkTransition(vm, to);
        states.put(vm, to);
    }

    @Override
    public void add(VmSpec spec, VmState state) {
        if (specs.putIfAbsent(spec.name(), spec) != null) {
            throw new IllegalStateException("vm '" + spec.name() + "' already defined");
        }
        states.put(spec.name(), state);
    }

    @Override
    public void attach(VmHandle handle) {
        handles.put(handle.name(), handle);
    }

    @Override
    public void forget(String vm) {
        handles.remove(vm);
        specs.remove(vm);
        states.remove(vm);
    }

    @Override
    public void detach(String vm) {
        handles.remove(vm);
    }

    @Override
    public List<String> admissionBlockers(VmSpec spec) {
        List<String> out = new ArrayList<>(blockers);
        if (defined(spec.name())) {
            out.add("a VM named '" + spec.name() + "' is already defined on this host");
        }
        return out;
    }
}
