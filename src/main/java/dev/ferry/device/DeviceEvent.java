package dev.ferry.device;

/** Something a device said during a step: a fraction done, or a line of text. */
public record DeviceEvent(DeviceRef device, Double fraction, String message) {

    static DeviceEvent progress(DeviceRef device, double fraction) {
        return new DeviceEvent(device, Math.max(0, Math.min(1, fraction)), null);
    }

    static DeviceEvent message(DeviceRef device, String text) {
        return new DeviceEvent(device, null, text);
    }
}
