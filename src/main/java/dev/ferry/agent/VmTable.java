package dev.ferry.agent;

import dev.ferry.agent.store.StateStore;
import dev.ferry.agent.store.VmRecord;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmState;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The VMs of this host: recorded state in the store, live QEMU handles in memory. Every state
 * change goes through {@link #move}, which checks the transition table, writes the store and
 * then tells listeners, in that order, so nothing is announced that a crash could forget.
 */
final class VmTable {
    private final StateStore store;
    private final EventBus events;
    private final Clock clock;
    private final Map<String, VmHandle> handles = new ConcurrentHashMap<>();

    VmTable(StateStore store, EventBus events, Clock clock) {
        this.store = store;
        this.events = events;
        this.clock = clock;
    }

    StateStore store() {
        return store;
    }

    Instant now() {
        return clock.instant();
    }

    /** The VM's record, or NOT_FOUND naming it. */
    VmRecord record(String name) {
        return store.findVm(name).orElseThrow(() -> AgentException.notFound(name));
    }

    VmState move(String name, VmState to) {
        VmState from = record(name).state();
        from.checkTransition(name, to);
        Instant at = now();
        store.updateState(name, to, at);
        events.publish(new VmEvent(name, from.wireName(), to.wireName(), at));
        return to;
    }

    void added(VmRecord vm) {
        store.insertVm(vm);
        events.publish(new VmEvent(vm.name(), null, vm.state().wireName(), vm.updatedAt()));
    }

    void removed(VmRecord vm) {
        store.deleteVm(vm.name());
        events.publish(new VmEvent(vm.name(), vm.state().wireName(), null, now()));
    }

    Optional<VmHandle> handle(String name) {
        return Optional.ofNullable(handles.get(name));
    }

    void attach(VmHandle handle) {
        handles.put(handle.name(), handle);
    }

    /** Forgets the VM's handle and lets go of it; QEMU, if still there, keeps running. */
    void detach(String name) {
        VmHandle h = handles.remove(name);
        if (h != null) {
            h.close();
        }
    }

    Map<String, VmHandle> handles() {
        return Map.copyOf(handles);
    }

    /** Lets go of every VM without stopping any: the agent is going away, the VMs are not. */
    void detachAll() {
        handles.keySet().forEach(this::detach);
    }
}
