package dev.ferry.device;

/**
 * Names one device of one VM in messages, reports and the journal: {@code device 'tpm0' (tpm, external)}.
 *
 * @param id      the device's id in the VM spec
 * @param type    disk, nic, tpm, usb, pci or external
 * @param variant what kind of that type (e.g. {@code swtpm}, {@code local}, {@code passthrough}); may be empty
 */
public record DeviceRef(String id, String type, String variant) {

    public String describe() {
        String kind = variant.isEmpty() ? type : type + ", " + variant;
        return "device '" + id + "' (" + kind + ")";
    }

    @Override
    public String toString() {
        return describe();
    }
}
