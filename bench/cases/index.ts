// Every kernel family the suite runs, in report order.
import type { Family } from '../suite';
import { attentionFamily } from './attention';
import { mergeFamily } from './merge';
import { quantFamily } from './quant';
import { sparseFamily } from './sparse';
import { ssmFamily } from './ssm';
import { xattentionFamily } from './xattention';

export const families: Family[] = [attentionFamily, sparseFamily, xattentionFamily, quantFamily, mergeFamily, ssmFamily];
