import { peerkitVitestConfig } from '../../vitest.shared.ts';

export default peerkitVitestConfig();
