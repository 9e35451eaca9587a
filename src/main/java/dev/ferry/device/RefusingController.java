package dev.ferry.device;

/** A device that cannot move, and says why at check. */
final class RefusingController implements DeviceController {
    private final String reason;

    RefusingController(String reason) {
        this.reason = reason;
    }

    @Override
    public Verdict check(DeviceContext ctx) {
        return Verdict.refuse(reason);
    }
}
