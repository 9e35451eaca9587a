package dev.ferry.conformance;

import dev.ferry.device.DeviceRef;
import dev.ferry.device.Mode;
import dev.ferry.device.ToolDialect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What to check: which tool, speaking which dialect, for which device class, in which mode.
 *
 * @param tool        the executable under test
 * @param dialect     the dialect it speaks
 * @param deviceClass the class as the dialect names it: {@code tpm}, {@code disk}... for ferry,
 *                    {@code vtpm}, {@code vbd}... for xen; any other word is an external device's kind
 * @param mode        live or save
 * @param destination the destination host the tool is told about in live mode
 */
public record CheckOptions(Path tool, ToolDialect dialect, String deviceClass, Mode mode, String destination) {

    private static final Pattern KIND = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

    /** Ferry's device types by the name each dialect gives them, with the variant a tool would move. */
    private static final Map<String, DeviceRef> FERRY_TYPES = Map.of(
            "disk", new DeviceRef("disk0", "disk", "local"),
            "nic", new DeviceRef("nic0", "nic", "tap"),
            "tpm", new DeviceRef("tpm0", "tpm", "external"),
            "usb", new DeviceRef("usb0", "usb", "passthrough"),
            "pci", new DeviceRef("pci0", "pci", "passthrough"),
            "external", new DeviceRef("ext0", "external", "external"));
    private static final Map<String, String> XEN_CLASSES = Map.of(
            "vbd", "disk", "vif", "nic", "vtpm", "tpm", "usb", "usb", "pci", "pci");

    public CheckOptions {
        Objects.requireNonNull(tool, "tool");
        Objects.requireNonNull(dialect, "dialect");
        Objects.requireNonNull(mode, "mode");
        if (deviceClass == null || !KIND.matcher(deviceClass).matches()) {
            throw new IllegalArgumentException("device class '" + deviceClass + "' is not a class; use "
                    + classesOf(dialect) + " or an external device's kind (lower case letters, digits, - and _)");
        }
        if (destination == null || destination.isBlank()) {
            throw new IllegalArgumentException("the destination host must not be empty");
        }
    }

    /** The classes {@code dialect} knows by name. */
    public static String classesOf(ToolDialect dialect) {
        return dialect == ToolDialect.XEN ? "vbd, vif, vtpm, usb, pci" : "disk, nic, tpm, usb, pci, external";
    }

    /** Refuses a tool that cannot run, in words that say what to do. */
    void requireRunnableTool() {
        if (!Files.isRegularFile(tool)) {
            throw new IllegalArgumentException("tool " + tool + " does not exist; give the path of the tool's executable");
        }
        if (!Files.isExecutable(tool)) {
            throw new IllegalArgumentException("tool " + tool + " is not executable; chmod +x it");
        }
    }

    /** The device the tool moves during the check, of the type this class names. */
    DeviceRef device() {
        String type = dialect == ToolDialect.XEN ? XEN_CLASSES.get(deviceClass) : deviceClass;
        DeviceRef known = type == null ? null : FERRY_TYPES.get(type);
        return known != null ? known : new DeviceRef(deviceClass + "0", "external", deviceClass);
    }
}
