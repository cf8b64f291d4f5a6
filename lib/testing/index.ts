// native-rnn/testing: gradient checks and array closeness for users' own test suites.
//   const { gradCheck, nativeRnnChai } = require('native-rnn/testing');
// Nothing here is loaded by require('native-rnn'); chai is not a dependency (the plugin uses
// the chai that chai.use passes it).
export {
  gradCheck, GradCheckError, describePoint, formatNumber, type GradCheckOptions, type GradCheckResult, type GradCheckPoint,
  type GradCheckParameter, type LossFunction,
} from './gradcheck';
export { compareClose, type CloseOptions, type CloseResult, type NumericArray } from './close';
export {
  nativeRnnChai, nativeRnnChai as default, type ChaiLike, type ChaiAssertionLike, type ChaiUtilsLike, type GradientBatch,
  type ValidGradientsOptions,
} from './chai';
