// Importing a bank statement into the chosen bank account, or a provider fund-flow file of
// one of its provider accounts. The backend reads the file by its path (the web view cannot
// hand out a chosen file's path), so the path is typed or pasted.
import { useEffect, useState } from 'react';
import { Alert, Button, Input, Modal, Select, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { above, below, WIDTH } from '../../styles';
import type { BankAccountInfo, BankImportOut, FundFlowImportOut } from '../../types';

export type ImportKind = 'bank' | 'fundflow';

export interface ImportDialogProps {
  kind: ImportKind | null;
  bank: BankAccountInfo | null;
  onClose: () => void;
  /** After a successful import (the screen may run settlement again). */
  onImported: () => void;
}

export default function ImportDialog({ kind, bank, onClose, onImported }: ImportDialogProps) {
  const { t } = useTranslation('settlements');
  const [path, setPath] = useState('');
  const [account, setAccount] = useState<string | null>(null);
  const [pathMissing, setPathMissing] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [gaps, setGaps] = useState<string[]>([]);
  const bankCmd = useCommand((b: string, p: string) => commands.bankImport(b, p));
  const flowCmd = useCommand((a: string, p: string) => commands.fundflowImport(a, p));
  const cmd = kind === 'bank' ? bankCmd : flowCmd;

  useEffect(() => {
    setPath('');
    setPathMissing(false);
    setResult(null);
    setGaps([]);
    setAccount(bank?.accounts[0] ?? null);
    bankCmd.setError(null);
    flowCmd.setError(null);
    // A fresh form each time the dialog opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [kind, bank]);

  async function submit() {
    if (!bank || !kind) return;
    if (path.trim() === '') {
      setPathMissing(true);
      return;
    }
    setResult(null);
    if (kind === 'bank') {
      const r = await bankCmd.run(bank.name, path.trim());
      if (r.status !== 'ok') return;
      const v: BankImportOut = r.value;
      setResult(
        v.already_imported
          ? t('import.bank_already', { file: v.file })
          : t('import.bank_done', { file: v.file, lines: v.lines, statements: v.statements, known: v.already_known_lines }),
      );
      setGaps(v.roll_forward_gaps);
    } else {
      if (!account) return;
      const r = await flowCmd.run(account, path.trim());
      if (r.status !== 'ok') return;
      const v: FundFlowImportOut = r.value;
      setResult(t('import.fundflow_done', { file: v.file, flows: v.flows, new: v.new_flows, payouts: v.payouts }));
    }
    onImported();
  }

  return (
    <Modal
      open={kind !== null}
      width={WIDTH.dialogWide}
      title={kind === 'bank' ? t('import.bank_title', { bank: bank?.name ?? '' }) : t('import.fundflow_title')}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="close" onClick={onClose}>
          {t('common:actions.close')}
        </Button>,
        <Button key="ok" type="primary" loading={cmd.loading} onClick={() => void submit()} data-testid="settle-import-submit">
          {t('import.submit')}
        </Button>,
      ]}
    >
      <Typography.Paragraph type="secondary">{kind === 'bank' ? t('import.bank_hint') : t('import.fundflow_hint')}</Typography.Paragraph>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Space direction="vertical" style={{ width: '100%' }}>
          {kind === 'fundflow' && (
            <label>
              <div style={below.xs}>{t('import.account')}</div>
              <Select
                style={{ width: '100%' }}
                value={account}
                onChange={setAccount}
                options={(bank?.accounts ?? []).map((a) => ({ value: a, label: a }))}
                data-testid="settle-import-account"
              />
            </label>
          )}
          <label>
            <div style={below.xs}>{t('import.path')}</div>
            <Input
              autoFocus
              value={path}
              status={pathMissing ? 'error' : undefined}
              placeholder={t('import.path_placeholder')}
              onChange={(e) => {
                setPath(e.target.value);
                setPathMissing(false);
              }}
              data-testid="settle-import-path"
            />
          </label>
          {pathMissing && <Typography.Text type="danger">{t('import.path_required')}</Typography.Text>}
        </Space>
      </form>
      <ErrorAlert error={cmd.error} style={above.md} data-testid="settle-import-error" />
      {result && <Alert type="success" showIcon style={above.md} message={result} data-testid="settle-import-result" />}
      {gaps.length > 0 && (
        <Alert
          type="warning"
          showIcon
          style={above.md}
          message={t('import.gaps')}
          description={
            <ul style={{ margin: 0, paddingLeft: 18 }}>
              {gaps.map((g) => (
                <li key={g}>{g}</li>
              ))}
            </ul>
          }
        />
      )}
    </Modal>
  );
}
