package dev.ferry.device;

import dev.ferry.vm.DeviceSpec;

/**
 * A passed-through device with the unplug-replug policy: unplugged on the source before the RAM
 * copy, plugged in again on the destination after the guest resumed there; a rollback plugs it
 * back in on the source.
 */
final class UnplugReplugController implements DeviceController {
    private final DeviceSpec device;
    private final GuestControl guest;

    UnplugReplugController(DeviceSpec device, GuestControl guest) {
        this.device = device;
        this.guest = guest;
    }

    @Override
    public Verdict check(DeviceContext ctx) {
        return Verdict.ok();
    }

    @Override
    public void preSuspend(DeviceContext ctx) throws DeviceException {
        guest.unplug(device.id());
    }

    @Override
    public void recover(DeviceContext ctx, Step lastGoodStep) throws DeviceException {
        if (lastGoodStep == Step.PRE_SUSPEND || lastGoodStep.isAfter(Step.PRE_SUSPEND)) {
            guest.plug(device);
        }
    }

    @Override
    public void afterResume(DeviceContext ctx) throws DeviceException {
        guest.plug(device);
    }
}
