package dev.ferry.device;

/** A NIC whose state moves in-band; after the guest resumed on the destination, its MAC is announced. */
final class AnnouncingNicController implements DeviceController {
    private final String nicId;
    private final GuestControl guest;

    AnnouncingNicController(String nicId, GuestControl guest) {
        this.nicId = nicId;
        this.guest = guest;
    }

    @Override
    public Verdict check(DeviceContext ctx) {
        return Verdict.ok();
    }

    @Override
    public void afterResume(DeviceContext ctx) throws DeviceException {
        guest.announce(nicId);
    }
}
