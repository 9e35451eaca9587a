package dev.ferry.device;

/**
 * Something a device said during a step: a fraction done, a line of text, or, for a device moved
 * by a tool, one call of the tool with its kept output.
 */
public record DeviceEvent(DeviceRef device, Double fraction, String message, ToolCall toolCall) {

    static DeviceEvent progress(DeviceRef device, double fraction) {
        return new DeviceEvent(device, Math.max(0, Math.min(1, fraction)), null, null);
    }

    static DeviceEvent message(DeviceRef device, String text) {
        return new DeviceEvent(device, null, text, null);
    }

    static DeviceEvent toolCall(DeviceRef device, ToolCall call) {
        return new DeviceEvent(device, null, null, call);
    }
}
