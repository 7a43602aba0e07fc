// Every kernel family the suite runs, in report order.
import type { Family } from '../suite';
import { attentionFamily } from './attention';

export const families: Family[] = [attentionFamily];
