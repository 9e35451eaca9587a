package dev.ferry.device;

/** A device's answer at {@link Step#CHECK}: it can migrate, or it refuses and says why. */
public record Verdict(boolean migratable, String reason) {

    public static Verdict ok() {
        return new Verdict(true, "");
    }

    public static Verdict refuse(String reason) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a refusal must say why");
        }
        return new Verdict(false, reason);
    }
}
