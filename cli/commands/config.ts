// `tsswarm config create|ls|inspect|rm`: the secret commands over /configs (configs show their data
// and take --template-driver golang; they have no driver).
import { objectCommand } from './secret.js';

export const config = objectCommand('config');
export default config;
