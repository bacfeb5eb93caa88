// The shape and the weights of a BERT encoder as the forward passes (CPU in encoder.cpp, CUDA in
// gpu_cuda.cu) use them: float32, row-major, linear layers [out, in] as PyTorch stores them, Q, K
// and V stacked into one [3 hidden, hidden] matrix.
#pragma once

#include <vector>

namespace opdbus::ml {

struct EncoderShape {
  int vocabulary = 0;
  int max_positions = 0;
  int hidden = 0;
  int layers = 0;
  int heads = 12;
  int intermediate = 0;
  float layer_norm_eps = 1e-12F;
};

struct EncoderWeights {
  struct Linear {
    std::vector<float> weight;  // [out, in]; empty once packed
    std::vector<float> bias;    // [out]
    std::vector<float> packed;  // the weight as kernels::pack_panels lays it out, if packed
  };
  struct Norm {
    std::vector<float> gamma;
    std::vector<float> beta;
  };
  struct Layer {
    Linear qkv;  // Q, K and V stacked: [3 hidden, hidden]
    Linear attention_out;
    Norm attention_norm;
    Linear intermediate;
    Linear output;
    Norm output_norm;
  };
  std::vector<float> words;
  std::vector<float> positions;
  std::vector<float> token_type;  // row 0: every token is of the first segment
  Norm embedding_norm;
  std::vector<Layer> layers;
};

}  // namespace opdbus::ml
