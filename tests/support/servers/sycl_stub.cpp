// Stand-in for libollama-ggml-sycl.so from bigdl-core-cpp on machines without an Intel GPU.
// The real library aborts when no SYCL device exists. This one exports the four symbols the
// other Ollama libraries link against and reports no SYCL backend, so Ollama runs on the CPU.
#include <cstddef>

extern "C" {

void *ggml_backend_sycl_reg(void) { return nullptr; }

void *ggml_backend_sycl_init(int device) {
    (void)device;
    return nullptr;
}

void ggml_backend_sycl_get_device_name(int device, char *description, size_t description_size) {
    (void)device;
    if (description != nullptr && description_size > 0) {
        description[0] = '\0';
    }
}

}  // extern "C"

void ggml_format_convert_to_xpu(const void *src, void *dst, unsigned long size, int type) {
    (void)src;
    (void)dst;
    (void)size;
    (void)type;
}
