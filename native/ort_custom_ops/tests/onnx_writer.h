// Writes small ONNX models (protobuf wire format, only the fields the tests need) so the CTest programs need no
// protobuf library and no model files. Field numbers follow onnx.proto (ONNX IR version 8).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace onnx_writer {

struct Attribute {
    std::string name;
    enum Kind { Int = 2, String = 3, Ints = 7 } kind;
    int64_t i = 0;
    std::string s;
    std::vector<int64_t> ints;
};

struct Node {
    std::string op_type, domain, name;
    std::vector<std::string> inputs, outputs;
    std::vector<Attribute> attributes;
};

struct Value {  // a float tensor graph input/output
    std::string name;
    std::vector<int64_t> shape;
};

struct Initializer {  // a float constant
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> data;
};

struct Opset {
    std::string domain;
    int64_t version;
};

// Serialises a ModelProto.
std::string WriteModel(const std::vector<Opset>& opsets, const std::vector<Node>& nodes, const std::vector<Initializer>& initializers,
                       const std::vector<Value>& inputs, const std::vector<Value>& outputs);

}  // namespace onnx_writer
