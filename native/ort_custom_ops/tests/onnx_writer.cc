#include "onnx_writer.h"

#include <cstring>

namespace onnx_writer {
namespace {

void Varint(std::string& out, uint64_t value)
{
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

void Key(std::string& out, int field, int wire_type) { Varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type)); }

void IntField(std::string& out, int field, int64_t value)
{
    Key(out, field, 0);
    Varint(out, static_cast<uint64_t>(value));
}

void BytesField(std::string& out, int field, const std::string& bytes)
{
    Key(out, field, 2);
    Varint(out, bytes.size());
    out += bytes;
}

std::string ValueInfo(const Value& value)
{
    std::string shape;
    for (int64_t d : value.shape) {
        std::string dim;
        IntField(dim, 1, d);  // Dimension.dim_value
        BytesField(shape, 1, dim);  // TensorShapeProto.dim
    }
    std::string tensor;
    IntField(tensor, 1, 1);  // elem_type FLOAT
    BytesField(tensor, 2, shape);
    std::string type;
    BytesField(type, 1, tensor);  // TypeProto.tensor_type
    std::string info;
    BytesField(info, 1, value.name);
    BytesField(info, 2, type);
    return info;
}

std::string AttributeProto(const Attribute& a)
{
    std::string out;
    BytesField(out, 1, a.name);
    switch (a.kind) {
    case Attribute::Int: IntField(out, 3, a.i); break;
    case Attribute::String: BytesField(out, 4, a.s); break;
    case Attribute::Ints:
        for (int64_t v : a.ints) IntField(out, 8, v);
        break;
    }
    IntField(out, 20, a.kind);
    return out;
}

std::string NodeProto(const Node& node)
{
    std::string out;
    for (const auto& i : node.inputs) BytesField(out, 1, i);
    for (const auto& o : node.outputs) BytesField(out, 2, o);
    BytesField(out, 3, node.name);
    BytesField(out, 4, node.op_type);
    for (const auto& a : node.attributes) BytesField(out, 5, AttributeProto(a));
    if (!node.domain.empty()) BytesField(out, 7, node.domain);
    return out;
}

std::string TensorProto(const Initializer& init)
{
    std::string out;
    for (int64_t d : init.shape) IntField(out, 1, d);
    IntField(out, 2, 1);  // FLOAT
    BytesField(out, 8, init.name);
    std::string raw(init.data.size() * sizeof(float), '\0');
    std::memcpy(raw.data(), init.data.data(), raw.size());  // little-endian host, as ONNX raw_data requires
    BytesField(out, 9, raw);
    return out;
}

}  // namespace

std::string WriteModel(const std::vector<Opset>& opsets, const std::vector<Node>& nodes, const std::vector<Initializer>& initializers,
                       const std::vector<Value>& inputs, const std::vector<Value>& outputs)
{
    std::string graph;
    for (const auto& n : nodes) BytesField(graph, 1, NodeProto(n));
    BytesField(graph, 2, "test");
    for (const auto& i : initializers) BytesField(graph, 5, TensorProto(i));
    for (const auto& v : inputs) BytesField(graph, 11, ValueInfo(v));
    for (const auto& v : outputs) BytesField(graph, 12, ValueInfo(v));

    std::string model;
    IntField(model, 1, 8);  // ir_version
    BytesField(model, 2, "accelsdk-tests");  // producer_name
    BytesField(model, 7, graph);
    for (const auto& o : opsets) {
        std::string opset;
        if (!o.domain.empty()) BytesField(opset, 1, o.domain);
        IntField(opset, 2, o.version);
        BytesField(model, 8, opset);
    }
    return model;
}

}  // namespace onnx_writer
