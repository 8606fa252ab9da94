import { peerkitTsupConfig } from '../../tsup.shared.ts';

export default peerkitTsupConfig({
  index: 'src/index.ts',
  testing: 'src/testing.ts',
});
