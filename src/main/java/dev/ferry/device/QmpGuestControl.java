package dev.ferry.device;

import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpException;
import dev.ferry.vm.DeviceSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** {@link GuestControl} over a VM's QMP connection. */
public final class QmpGuestControl implements GuestControl {
    private static final Duration UNPLUG_WAIT = Duration.ofSeconds(20);

    private final QmpClient qmp;

    public QmpGuestControl(QmpClient qmp) {
        this.qmp = qmp;
    }

    @Override
    public void unplug(String id) throws DeviceException {
        try {
            var deleted = qmp.expectEvent(e -> e.name().equals(QmpEvent.DEVICE_DELETED)
                    && id.equals(e.data().path("device").asText()));
            qmp.execute("device_del", Map.of("id", id), Duration.ofSeconds(10));
            deleted.await(UNPLUG_WAIT);
        } catch (QmpException e) {
            throw new DeviceException("unplugging '" + id + "' failed: " + e.getMessage()
                    + " (the guest must have ACPI hot-plug and release the device)", e);
        }
    }

    @Override
    public void plug(DeviceSpec device) throws DeviceException {
        if (!(device instanceof DeviceSpec.Pci pci) || !(pci.source() instanceof DeviceSpec.HostPci host)) {
            throw new DeviceException("plugging '" + device.id() + "' back is only supported for passthrough PCI devices");
        }
        try {
            qmp.execute("device_add", Map.of("driver", "vfio-pci", "host", host.address(), "id", device.id()),
                    Duration.ofSeconds(20));
        } catch (QmpException e) {
            throw new DeviceException("plugging '" + device.id() + "' (" + host.address() + ") failed: " + e.getMessage(), e);
        }
    }

    @Override
    public QmpClient qmp() {
        return qmp;
    }

    @Override
    public void announce(String nicId) throws DeviceException {
        try {
            qmp.execute("announce-self", Map.of("initial", 50, "max", 550, "rounds", 5, "step", 100,
                    "interfaces", List.of(nicId)), Duration.ofSeconds(5));
        } catch (QmpException e) {
            throw new DeviceException("announcing '" + nicId + "' failed: " + e.getMessage(), e);
        }
    }
}
